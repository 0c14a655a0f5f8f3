package dev.offload.gateway.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The names evaluation set is well formed; nothing here measures the detector. */
class LabelledSentencesTest {
    @Test
    void evaluationSetIsWellFormedAndLargeEnough() {
        LabelledSentences set = LabelledSentences.read(PersonNameEvaluation.DATA);
        assertTrue(set.sentences().size() >= 150, "sentences: " + set.sentences().size());
        long persons = set.sentences().stream().flatMap(s -> s.entities().stream())
                .filter(e -> e.label().equals("PER")).count();
        long negatives = set.sentences().stream().filter(s -> s.entities().stream()
                .noneMatch(e -> e.label().equals("PER"))).count();
        assertTrue(persons >= 100, "person names: " + persons);
        assertTrue(negatives >= 50, "sentences without a person: " + negatives);
        for (LabelledSentences.Sentence s : set.sentences()) {
            int last = 0;
            for (LabelledSentences.Entity e : s.entities()) {
                assertTrue(e.start() >= last && e.end() > e.start() && e.end() <= s.text().length(), "line " + s.line());
                String v = s.text().substring(e.start(), e.end());
                assertTrue(Character.isLetter(v.charAt(0)) && !v.startsWith("Dr") && !v.startsWith("Mr ")
                        && !v.endsWith("'s"), "line " + s.line() + ": title or possessive inside '" + v + "'");
                last = e.end();
            }
        }
    }

    @Test
    void parsesSpansAndRefusesMalformedLines() {
        LabelledSentences.Sentence s = LabelledSentences.parse("# c\nCall [PER Anna Berg] at [ORG Acme].\n").sentences().get(0);
        assertEquals("Call Anna Berg at Acme.", s.text());
        assertEquals(new LabelledSentences.Entity("PER", 5, 14), s.entities().get(0));
        assertEquals(new LabelledSentences.Entity("ORG", 18, 22), s.entities().get(1));
        assertThrows(IllegalArgumentException.class, () -> LabelledSentences.parse("a [PER b"));
        assertThrows(IllegalArgumentException.class, () -> LabelledSentences.parse("a [XYZ b]"));
        assertThrows(IllegalArgumentException.class, () -> LabelledSentences.parse("a b]"));
        assertThrows(IllegalArgumentException.class, () -> LabelledSentences.parse("a [PER ]"));
    }
}
