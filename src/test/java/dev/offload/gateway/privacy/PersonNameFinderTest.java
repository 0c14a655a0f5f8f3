package dev.offload.gateway.privacy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Person names: the gazetteer and context rules, and the PERSON kind in a session. */
class PersonNameFinderTest {
    private final PersonNameFinder finder = PersonNameFinder.fromDatafaker();

    private List<String> names(String text) {
        return finder.find(text).stream().map(n -> text.substring(n.start(), n.end())).toList();
    }

    @Test
    void knownFirstNameWithTheCapitalisedWordsAfterIt() {
        assertEquals(List.of("Anna Kowalczyk"), names("Please forward this to Anna Kowalczyk today."));
        assertEquals(List.of("Diana"), names("ask Diana about the rota"));
        // Not on Datafaker's US-centred list: missed.
        assertEquals(List.of(), names("ask Priya about the rota"));
        assertEquals(List.of("John F. Kennedy"), names("the speech by John F. Kennedy was short"));
        assertEquals(List.of("Vincent van Gogh"), names("paintings of Vincent van Gogh"));
        assertEquals(List.of("Sarah"), names("that is Sarah's laptop"));
    }

    @Test
    void titlesAndIntroducersMakeUnknownWordsNames() {
        assertEquals(List.of("Okafor"), names("Dr. Okafor will call back"));
        assertEquals(List.of("Nakamura"), names("Mr Nakamura asked"));
        assertEquals(List.of("Zbigniew Wrzesniewski"), names("Hello, my name is Zbigniew Wrzesniewski."));
        assertEquals(List.of("Thandiwe"), names("Regards, Thandiwe"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Will you send the report by May 3?", "We visited Georgia and Virginia last year.",
            "Grace periods apply.", "The Victoria Station entrance is closed.", "Deploy it to Google Cloud Run.",
            "Alexa, play some music.", "Dear Sir, the invoice is attached.", "The NASA team met in March."})
    void commonWordsPlacesAndOrganisationsAreNoNames(String text) {
        assertEquals(List.of(), names(text), text);
    }

    @Test
    void anAmbiguousFirstNameNeedsASurnameOrAPlaceInsideASentence() {
        assertEquals(List.of("Will Smith"), names("Will Smith starred in it."));
        assertEquals(List.of("Grace Hopper"), names("a talk about Grace Hopper and COBOL"));
    }

    @Test
    void personIsOffByDefaultAndRedactedWhenAskedFor() {
        String text = "Call Anna Kowalczyk on +44 20 7946 0958, or Dr. Okafor.";
        assertEquals(List.of(PiiType.PHONE), PiiRedactor.withDefaults().detect(text).stream()
                .map(PiiRedactor.Match::type).toList());
        EnumSet<PiiType> all = EnumSet.allOf(PiiType.class);
        PiiRedactor r = PiiRedactorProducer.build(all, List.of("us-ssn"), Map.of());
        RedactionSession s = r.newSession();
        String redacted = s.redact(text);
        assertEquals("Call <PERSON_1> on <PHONE_1>, or Dr. <PERSON_2>.", redacted);
        assertEquals(Map.of(PiiType.PERSON, 2, PiiType.PHONE, 1), s.counts());
        assertEquals("Okafor said hello to Anna Kowalczyk", s.restore("<PERSON_2> said hello to <PERSON_1>"));
        // A typed literal that looks like a placeholder comes back as typed.
        RedactionSession t = r.newSession();
        assertEquals("<PERSON_1>", t.restore(t.redact("<PERSON_1>")));
    }
}
