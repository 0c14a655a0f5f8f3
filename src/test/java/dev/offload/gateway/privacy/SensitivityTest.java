package dev.offload.gateway.privacy;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SensitivityTest {
    @Test
    void parseIgnoresCaseAndBlanks() {
        assertEquals(Sensitivity.PUBLIC, Sensitivity.parse("public"));
        assertEquals(Sensitivity.CONFIDENTIAL, Sensitivity.parse(" Confidential "));
        assertEquals(Sensitivity.RESTRICTED, Sensitivity.parse("RESTRICTED"));
    }

    @Test
    void parseNamesTheAcceptedValuesOnBadInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sensitivity.parse("secret"));
        assertTrue(e.getMessage().contains("'secret'") && e.getMessage().contains("public, internal, confidential, restricted"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Sensitivity.parse(null));
        assertThrows(IllegalArgumentException.class, () -> Sensitivity.parse("  "));
    }

    @Test
    void orderAndMax() {
        assertEquals(Sensitivity.CONFIDENTIAL, Sensitivity.max(Sensitivity.INTERNAL, Sensitivity.CONFIDENTIAL));
        assertEquals(Sensitivity.CONFIDENTIAL, Sensitivity.max(Sensitivity.CONFIDENTIAL, Sensitivity.PUBLIC));
        assertEquals(Sensitivity.INTERNAL, Sensitivity.max(null, Sensitivity.INTERNAL));
        assertEquals(Sensitivity.RESTRICTED, Sensitivity.max(Sensitivity.PUBLIC,
                Arrays.asList(Sensitivity.INTERNAL, null, Sensitivity.RESTRICTED, Sensitivity.CONFIDENTIAL)));
        assertEquals(Sensitivity.INTERNAL, Sensitivity.max(Sensitivity.INTERNAL, List.of(Sensitivity.PUBLIC)));
        assertEquals(Sensitivity.PUBLIC, Sensitivity.max(Sensitivity.PUBLIC, List.of()));
        assertTrue(Sensitivity.RESTRICTED.atLeast(Sensitivity.CONFIDENTIAL));
        assertFalse(Sensitivity.INTERNAL.atLeast(Sensitivity.CONFIDENTIAL));
    }

    record Doc(Sensitivity sensitivity) {
    }

    @Test
    void jsonUsesLowerCaseNamesAndAcceptsAnyCase() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertEquals("{\"sensitivity\":\"confidential\"}", json.writeValueAsString(new Doc(Sensitivity.CONFIDENTIAL)));
        assertEquals(Sensitivity.RESTRICTED, json.readValue("{\"sensitivity\":\"Restricted\"}", Doc.class).sensitivity());
        assertThrows(Exception.class, () -> json.readValue("{\"sensitivity\":\"top-secret\"}", Doc.class));
    }
}
