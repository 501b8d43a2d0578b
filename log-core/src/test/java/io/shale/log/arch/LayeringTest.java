package io.shale.log.arch;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The layering of log-core, checked mechanically: the public API, the record format, the SPI and
 * the object WAL never depend on the engine (io.shale.log.internal..), except the one call that
 * opens a store; and nothing in log-core reaches for a cloud SDK.
 */
class LayeringTest {
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.shale.log");

    @Test
    void publicPackagesShouldNotDependOnTheEngineExceptToOpenAStore() {
        // The object WAL waits through the engine's one blocking helper, so that the deterministic
        // simulation can run it on its own thread; it exposes nothing of it.
        noClasses().that().resideInAnyPackage("io.shale.log", "io.shale.log.spi", "io.shale.log.record", "io.shale.log.wal",
                        "io.shale.log.metrics")
                .and().doNotHaveFullyQualifiedName("io.shale.log.LogStoreBuilder")
                .should().dependOnClassesThat(resideInAPackage("io.shale.log.internal..")
                        .and(not(name("io.shale.log.internal.util.Blocking")))
                        .and(not(name("io.shale.log.internal.util.Blocking$Driver"))))
                .check(MAIN);
    }

    @Test
    void theSpiShouldNotDependOnTheRecordFormatOrTheEngine() {
        noClasses().that().resideInAPackage("io.shale.log.spi")
                .should().dependOnClassesThat().resideInAnyPackage("io.shale.log.record..", "io.shale.log.internal..")
                .check(MAIN);
    }

    /**
     * Metrics libraries stay out of the core: a store without metrics must run with none on the
     * classpath, and shale-metrics-micrometer binds the core's own hooks (io.shale.log.metrics) to
     * Micrometer. (The enforcer also bans io.micrometer from this module's dependencies.)
     */
    @Test
    void nothingInTheCoreShouldUseAMetricsLibrary() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("io.micrometer..", "io.prometheus..",
                        "com.codahale.metrics..", "io.opentelemetry..")
                .check(MAIN);
    }

    @Test
    void theMetricsHooksShouldNotDependOnTheSpiOrTheRecordFormat() {
        noClasses().that().resideInAPackage("io.shale.log.metrics")
                .should().dependOnClassesThat().resideInAnyPackage("io.shale.log.record..", "io.shale.log.wal..")
                .check(MAIN);
    }

    @Test
    void nothingInTheCoreShouldUseACloudSdk() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("software.amazon..", "com.amazonaws..")
                .check(MAIN);
    }
}
