package io.shale.storage.local;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** storage-local implements the SPI only: it must not reach into log-core's engine. */
class LayeringTest {
    @Test
    void storageLocalShouldUseOnlyThePublicApiAndSpiOfLogCore() {
        noClasses().should().dependOnClassesThat().resideInAPackage("io.shale.log.internal..")
                .check(new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .importPackages("io.shale.storage.local"));
    }
}
