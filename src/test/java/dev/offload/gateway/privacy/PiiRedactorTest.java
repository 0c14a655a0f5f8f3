package dev.offload.gateway.privacy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Detection per kind, with the look-alikes each kind must leave alone. */
class PiiRedactorTest {
    private final PiiRedactor redactor = PiiRedactor.withDefaults();

    /** The single finding in "before VALUE after", which must be exactly VALUE of the given kind. */
    private void assertFinds(PiiType type, String value) {
        String text = "see " + value + " now";
        List<PiiRedactor.Match> found = redactor.detect(text);
        assertEquals(1, found.size(), () -> "findings in '" + text + "': " + found);
        assertEquals(type, found.get(0).type(), text);
        assertEquals(value, found.get(0).value(), text);
        assertEquals(4, found.get(0).start());
    }

    private void assertNothing(String text) {
        assertEquals(List.of(), redactor.detect(text), text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"alice@example.com", "a.b+tag@sub.example.co.uk", "ops@plant.internal",
            "jürgen.müller@example.de", "o'neil_1@example.org", "x@[192.0.2.1]"})
    void emails(String value) {
        assertFinds(PiiType.EMAIL, value);
    }

    @Test
    void emailLeavesTrailingSentenceDotAndRejectsMalformed() {
        List<PiiRedactor.Match> found = redactor.detect("Write to bob@example.com.");
        assertEquals("bob@example.com", found.get(0).value());
        assertNothing("the a..b@example.com handle and user@ alone, @mention, foo@bar");
    }

    @ParameterizedTest
    @ValueSource(strings = {"+49 30 1234567", "+1 (415) 555-0132", "+44 20 7946 0958", "+33 1 23 45 67 89",
            "+4915112345678", "+44 (0)20 7946 0958", "0049 30 1234567", "(415) 555-0132", "415-555-0132",
            "415.555.0132", "1-800-555-0199", "020 7946 0958", "030/1234567", "01 23 45 67 89", "06-12345678",
            "(030) 1234567", "07700 900123"})
    void phones(String value) {
        assertFinds(PiiType.PHONE, value);
    }

    @Test
    void phoneFollowedByAYearKeepsOnlyThePhoneWhenTooLong() {
        List<PiiRedactor.Match> found = redactor.detect("call 020 7946 0958 2019 edition");
        assertEquals(1, found.size());
        assertEquals("020 7946 0958", found.get(0).value());
    }

    @ParameterizedTest
    @ValueSource(strings = {"in 1999 and 2024 we shipped 12000 units", "released 2024-01-15, patched 15.01.2024",
            "due 01/02/2024 at 09:30", "order 123456789 and id 0012345678", "ticket #4155550132",
            "version 1.2.3.4.5 and v2.10.0", "+100 points, +15%, C++11", "port 8080, pid 31337",
            "ratio 0.5 0.25", "build 20240115.1", "call 123-456-7890", "ISO 8601: 2024-01-15T10:30:00Z"})
    void lookAlikesAreNotPii(String text) {
        assertNothing(text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"4111 1111 1111 1111", "4111111111111111", "5500-0000-0000-0004", "3782 822463 10005",
            "6011 0009 9013 9424", "4222222222222"})
    void cards(String value) {
        assertFinds(PiiType.CARD, value);
    }

    @Test
    void cardsMustPassLuhn() {
        assertNothing("card 4111 1111 1111 1112 and 5500-0000-0000-0005 and 4111111111111121");
    }

    @Test
    void cardGroupingMustBeConsistentAndNotStartWithZero() {
        assertNothing("4111 1111-1111 1111");
        // Passes Luhn but is no card number.
        assertNothing("0000 0000 0000 0000");
    }

    @Test
    void cardFollowedByExpiryIsFound() {
        List<PiiRedactor.Match> found = redactor.detect("card 4111 1111 1111 1111 12/27");
        assertEquals(PiiType.CARD, found.get(0).type());
        assertEquals("4111 1111 1111 1111", found.get(0).value());
    }

    @ParameterizedTest
    @ValueSource(strings = {"DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "GB82 WEST 1234 5698 7654 32",
            "FR14 2004 1010 0505 0001 3M02 606", "NL91 ABNA 0417 1643 00", "de89370400440532013000"})
    void ibans(String value) {
        assertFinds(PiiType.IBAN, value);
    }

    @Test
    void ibanChecksumAndLengthAreChecked() {
        assertNothing("DE89 3704 0044 0532 0130 01"); // wrong mod-97 check digits
        assertNothing("DE88370400440532013000");
        assertNothing("DE89 3704 0044 0532 0130 0");  // one character short
        assertNothing("DE89370400440532013000123");   // longer token
        assertNothing("XX89370400440532013000");      // no such country
    }

    @ParameterizedTest
    @ValueSource(strings = {"192.0.2.10", "10.0.0.1", "255.255.255.255", "2001:db8::1",
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "::1", "fe80::1%eth0", "::ffff:192.0.2.1", "2001:db8::"})
    void ips(String value) {
        assertFinds(PiiType.IP, value);
    }

    @Test
    void ipInContext() {
        List<PiiRedactor.Match> found = redactor.detect("hosts 10.0.0.1:8080, [2001:db8::7]:443 and 192.0.2.0/24.");
        assertEquals(List.of("10.0.0.1", "2001:db8::7", "192.0.2.0"),
                found.stream().map(PiiRedactor.Match::value).toList());
        found = redactor.detect("at fe80::1: the link-local one");
        assertEquals("fe80::1", found.get(0).value());
    }

    @Test
    void ipLookAlikes() {
        assertNothing("version 1.2.3.4.5, 256.1.1.1, 01.02.03.04, 1.2.3");
        assertNothing("at 12:30:45, ratio 3:2, std::vector and Foo::bar, MAC 00:1A:2B:3C:4D:5E");
    }

    @Test
    void usSsnIsBuiltIn() {
        assertFinds(PiiType.NATIONAL_ID, "078-05-1120");
        assertNothing("000-12-3456 and 666-12-3456 and 123-00-4567 and 123-45-0000 and 1078-05-1120");
    }

    @Test
    void configuredNationalIdPatterns() {
        PiiRedactor uk = PiiRedactor.builder().clearNationalIds()
                .nationalId("uk-nino", "(?<![A-Z0-9])[A-CEGHJ-PR-TW-Z]{2}\\d{6}[A-D](?![A-Z0-9])").build();
        assertEquals(List.of(PiiType.NATIONAL_ID),
                uk.detect("NI number AB123456C here").stream().map(PiiRedactor.Match::type).toList());
        assertTrue(uk.detect("SSN 078-05-1120").stream().noneMatch(m -> m.type() == PiiType.NATIONAL_ID),
                "the built-in was cleared");
    }

    @Test
    void badPatternsAreRefusedWithTheirName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PiiRedactor.builder().nationalId("broken", "(\\d"));
        assertTrue(e.getMessage().contains("broken"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PiiRedactor.builder().nationalId("empty", "\\d*"));
        assertThrows(IllegalArgumentException.class, () -> PiiRedactor.builder().types(Set.of()).build());
    }

    @Test
    void disabledKindsAreNotReported() {
        PiiRedactor onlyEmail = PiiRedactor.builder().types(EnumSet.of(PiiType.EMAIL)).build();
        assertEquals(List.of(PiiType.EMAIL), onlyEmail.detect("a@example.com 10.0.0.1 +44 20 7946 0958")
                .stream().map(PiiRedactor.Match::type).toList());
    }

    @Test
    void overlapsGoToTheMoreSpecificKind() {
        // The digits of an IBAN are not also a card or a phone number; an e-mail's digits are not a phone.
        List<PiiRedactor.Match> found = redactor.detect(
                "IBAN DE89 3704 0044 0532 0130 00, mail 020.7946.0958@example.com");
        assertEquals(List.of(PiiType.IBAN, PiiType.EMAIL), found.stream().map(PiiRedactor.Match::type).toList());
    }

    @Test
    void producerBuildsFromConfigValues() {
        PiiRedactor r = PiiRedactorProducer.build(EnumSet.of(PiiType.NATIONAL_ID), List.of("none"),
                Map.of("de-tax-id", "(?<!\\d)\\d{2} \\d{3} \\d{3} \\d{3}(?!\\d)"));
        assertEquals(Set.of("de-tax-id"), r.nationalIdNames());
        assertEquals(1, r.detect("Steuer-ID 12 345 678 901, SSN 078-05-1120").size());
        assertEquals(Set.of("us-ssn"), PiiRedactorProducer.build(EnumSet.allOf(PiiType.class), List.of("us-ssn"),
                Map.of()).nationalIdNames());
        assertThrows(IllegalArgumentException.class,
                () -> PiiRedactorProducer.build(EnumSet.allOf(PiiType.class), List.of("fr-insee"), Map.of()));
    }
}
