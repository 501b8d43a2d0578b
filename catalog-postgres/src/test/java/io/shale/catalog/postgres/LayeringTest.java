package io.shale.catalog.postgres;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * catalog-postgres implements the engine's internal {@code Catalog} seam, so unlike the storage
 * modules it uses log-core internals; but only that seam: the metadata model
 * ({@code internal.manifest}), the corrupt-storage error ({@code internal.format}) and write tokens
 * ({@code internal.util}), never the engine itself.
 */
class LayeringTest {
    @Test
    void theCatalogShouldUseOnlyTheCatalogSeamOfTheEngine() {
        noClasses().should().dependOnClassesThat(resideInAPackage("io.shale.log.internal..")
                        .and(not(resideInAnyPackage("io.shale.log.internal.manifest", "io.shale.log.internal.format",
                                "io.shale.log.internal.util"))))
                .check(new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .importPackages("io.shale.catalog.postgres"));
    }
}
