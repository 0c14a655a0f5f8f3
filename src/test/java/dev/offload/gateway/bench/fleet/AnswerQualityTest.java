package dev.offload.gateway.bench.fleet;

import dev.offload.gateway.bench.fleet.AnswerQuality.CacheOrigin;
import dev.offload.gateway.bench.fleet.AnswerQuality.Verdict;
import dev.offload.gateway.bench.fleet.QuestionPool.Kind;
import dev.offload.gateway.bench.fleet.QuestionPool.Question;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Answer scoring: labels per route, cached answers by the origin of the entry, extractive and cut-off apart. */
class AnswerQualityTest {
    private static final Question BOTH_RIGHT = new Question("q1", Kind.SHORT, "p1", "mmlu:1", true, true);
    private static final Question ONLY_STRONG = new Question("q2", Kind.SHORT, "p2", "mmlu:2", false, true);
    private static final Question NEITHER = new Question("q3", Kind.SHORT, null, "mmlu:3", false, false);

    @Test
    void localFollowsTheWeakLabelRemoteTheStrongOne() {
        AnswerQuality q = new AnswerQuality();
        assertEquals(Verdict.CORRECT, q.judge("local", BOTH_RIGHT, null));
        assertEquals(Verdict.WRONG, q.judge("local", ONLY_STRONG, null));
        assertEquals(Verdict.CORRECT, q.judge("edge", ONLY_STRONG, null));
        assertEquals(Verdict.CORRECT, q.judge("cloud", ONLY_STRONG, null));
        assertEquals(Verdict.WRONG, q.judge("edge", NEITHER, null));
    }

    @Test
    void aCachedAnswerIsCorrectOnlyWhenItWasGeneratedForTheSameQuestion() {
        AnswerQuality q = new AnswerQuality();
        q.generated("h0001", "mmlu:2");
        q.generated("h0002", "mmlu:1");
        assertEquals(CacheOrigin.SAME, q.cacheOrigin("h0001", ONLY_STRONG));
        assertEquals(Verdict.CORRECT, q.judge("cache", ONLY_STRONG, "h0001"), "its own answer, and the strong model was right");
        assertEquals(CacheOrigin.OTHER, q.cacheOrigin("h0002", ONLY_STRONG));
        assertEquals(Verdict.WRONG, q.judge("cache", ONLY_STRONG, "h0002"), "another question's answer is wrong");
        assertEquals(Verdict.WRONG, q.judge("cache", NEITHER, "h0003"), "an answer of unknown origin is wrong");
        assertEquals(CacheOrigin.UNKNOWN, q.cacheOrigin(null, NEITHER));
    }

    @Test
    void aParaphraseSharesItsQuestionsOriginSoItsCachedAnswerCounts() {
        AnswerQuality q = new AnswerQuality();
        Question paraphrased = new Question("another wording", Kind.SHORT, null, ONLY_STRONG.origin(), false, true);
        q.generated("habc", ONLY_STRONG.origin());
        assertEquals(Verdict.CORRECT, q.judge("cache", paraphrased, "habc"));
    }

    @Test
    void theOwnAnswerOfAQuestionTheStrongModelGotWrongIsStillWrong() {
        AnswerQuality q = new AnswerQuality();
        q.generated("hx", NEITHER.origin());
        assertEquals(Verdict.WRONG, q.judge("cache", NEITHER, "hx"));
    }

    @Test
    void aTagSeenForTwoQuestionsTellsNothing() {
        AnswerQuality q = new AnswerQuality();
        q.generated("which", "mmlu:1");
        q.generated("which", "mmlu:2");
        assertEquals(CacheOrigin.UNKNOWN, q.cacheOrigin("which", BOTH_RIGHT));
        assertEquals(Verdict.WRONG, q.judge("cache", BOTH_RIGHT, "which"));
    }

    @Test
    void extractiveAndCutOffAreCountedApartNeverCorrect() {
        AnswerQuality q = new AnswerQuality();
        assertEquals(Verdict.EXTRACTIVE, q.judge("extractive", BOTH_RIGHT, null));
        assertEquals(Verdict.CUT_OFF, q.judge("cut-off", BOTH_RIGHT, null));
        assertEquals(Verdict.UNLABELLED, q.judge("edge", new Question("t", Kind.SHORT, null), null));
    }

    @Test
    void theTagIsTheFirstWordWithoutItsTokenIndex() {
        assertEquals("h1a2b3c", AnswerQuality.tagOf("h1a2b3c0"));
        assertEquals("which", AnswerQuality.tagOf("which0 which1"));
        assertNull(AnswerQuality.tagOf(" "));
    }
}
