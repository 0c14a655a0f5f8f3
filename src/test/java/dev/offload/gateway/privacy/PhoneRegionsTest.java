package dev.offload.gateway.privacy;

import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Phone numbers through libphonenumber: which regions' national numbers are found. */
class PhoneRegionsTest {
    private static List<String> phones(PiiRedactor r, String text) {
        return r.detect(text).stream().filter(m -> m.type() == PiiType.PHONE).map(PiiRedactor.Match::value).toList();
    }

    @Test
    void nationalNumbersOnlyOfConfiguredRegionsInternationalOnesAlways() {
        PiiRedactor usOnly = PiiRedactor.builder().phoneRegions(List.of("us")).build();
        assertEquals(List.of("(415) 555-0132", "+44 20 7946 0958"),
                phones(usOnly, "call (415) 555-0132 or +44 20 7946 0958 or 020 7946 0958"));
        assertEquals(List.of("us".toUpperCase()), usOnly.phoneRegions());

        // A Madrid number in national form: no number in the default regions, found once ES is listed.
        String madrid = "oficina 912 345 678, gracias";
        assertTrue(phones(PiiRedactor.withDefaults(), madrid).isEmpty(), "default regions are US, GB, DE, FR");
        PiiRedactor withSpain = PiiRedactor.builder().phoneRegions(List.of("US", "ES")).build();
        assertEquals(List.of("912 345 678"), phones(withSpain, madrid));
    }

    @Test
    void numbersThatDoNotExistInTheNumberingPlanAreLeftAlone() {
        // NANP area codes never start with 0 or 1; a GB number cannot have 13 national digits.
        assertTrue(phones(PiiRedactor.withDefaults(), "ref 123-456-7890 and 020 7946 0958 123").stream()
                .noneMatch(v -> v.startsWith("123")));
    }

    @Test
    void aNumberNextToADateOrAnotherNumberIsStillFound() {
        PiiRedactor r = PiiRedactor.withDefaults();
        assertEquals(List.of("020 7946 8095"), phones(r, "15.01.2024 (020 7946 8095 / 4111"));
        assertEquals(List.of("+49 30 6581150"), phones(r, "ruf +49 30 6581150. 01/02/2024 an"));
    }

    @Test
    void unknownRegionsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PiiRedactor.builder().phoneRegions(List.of("US", "XX")));
        assertTrue(e.getMessage().contains("XX"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PiiRedactor.builder().phoneRegions(List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> PiiRedactorProducer.build(EnumSet.allOf(PiiType.class), List.of(), Map.of(), List.of("UK")));
    }
}
