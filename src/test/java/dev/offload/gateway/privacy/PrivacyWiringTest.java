package dev.offload.gateway.privacy;

import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The configuration maps and the produced redactor is the configured one. */
@QuarkusTest
class PrivacyWiringTest {
    @Inject
    PiiRedactor redactor;

    @Inject
    PrivacyConfig config;

    @Test
    void defaultsFromConfiguration() {
        assertEquals(Sensitivity.INTERNAL, config.defaultSensitivity());
        assertEquals("sensitivity", config.sensitivityMetadataKey());
        assertEquals(PiiType.defaults(), redactor.types());
        assertEquals(Set.of("us-ssn"), redactor.nationalIdNames());
        assertEquals("SSN <NATIONAL_ID_1>, mail <EMAIL_1>",
                redactor.newSession().redact("SSN 078-05-1120, mail ops@plant.internal"));
    }
}
