package dev.offload.gateway.cache;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Identifiers are part of the question: two questions that name different things never share an entry. */
class QueryIdentifiersTest {
    private static boolean same(String a, String b) {
        return QueryIdentifiers.of(a).sameAs(QueryIdentifiers.of(b));
    }

    @Test
    void everyKindOfIdentifierTellsQuestionsApart() {
        List<String[]> differ = List.of(
                new String[]{"Is the refund for account 1234-ALICE approved?", "Is the refund for account 9876-BOB approved?"},
                new String[]{"Where is order #A-5521?", "Where is order #A-5522?"},
                new String[]{"Did jane.doe@example.org get the invoice?", "Did john.roe@example.org get the invoice?"},
                new String[]{"Call me on +44 20 7946 0958 about the delivery", "Call me on +44 20 7946 0959 about the delivery"},
                new String[]{"Is the meeting with Alice Smith moved?", "Is the meeting with Bob Jones moved?"},
                new String[]{"Was the payment on 2024-05-01 received?", "Was the payment on 2024-06-01 received?"},
                new String[]{"Can I withdraw $250 today?", "Can I withdraw $2,500 today?"},
                new String[]{"How do I reset the router model RX-7?", "How do I reset the router model RX-9?"},
                new String[]{"Is the ISO file ready?", "Is the DMG file ready?"});
        for (String[] p : differ) {
            assertFalse(same(p[0], p[1]), p[0] + " / " + p[1]);
        }
    }

    @Test
    void paraphrasesThatNameTheSameThingsStillMatch() {
        assertTrue(same("How do I learn Python quickly?", "What is the fastest way to learn python?"));
        assertTrue(same("What is the capital of France?", "Which city is France's capital?"));
        assertTrue(same("Can I withdraw $2,500 today?", "Today, can I withdraw $2500?"));
        assertTrue(same("How do I change the gearbox oil?", "What is the way to change gearbox oil?"));
        assertTrue(same("I want to know how to cook rice.", "How do I cook rice? I am new."), "'I' is no name");
    }

    @Test
    void twoDevicesOfOneTenantNeverShareAnAnswerAboutAnotherIdentifier() {
        AtomicLong now = new AtomicLong();
        SemanticCache cache = new SemanticCache(new SemanticCache.Settings(true, 0.5, 0, 0.3, 0.02, 8, Duration.ofMinutes(5),
                100, 1_000_000), now::get);
        CacheScope scope = new CacheScope(java.util.Map.of(), "internal", "auto", "");
        float[] v = {1, 0, 0};
        float[] near = {0.99f, 0.1f, 0};
        List<String[]> pairs = List.of(
                new String[]{"Is the refund for account 1234-ALICE approved?", "Is the refund for account 9876-BOB approved?"},
                new String[]{"Did jane.doe@example.org get the invoice?", "Did john.roe@example.org get the invoice?"},
                new String[]{"Is +1 415 555 0132 on the plan?", "Is +1 415 555 0199 on the plan?"},
                new String[]{"Is the meeting with Alice Smith moved?", "Is the meeting with Bob Jones moved?"},
                new String[]{"Was the payment on 2024-05-01 received?", "Was the payment on 2024-06-01 received?"},
                new String[]{"Is order 5521 shipped?", "Is order 5522 shipped?"},
                new String[]{"Can I withdraw $250 today?", "Can I withdraw $900 today?"});
        for (String[] p : pairs) {
            // Device 1's question was answered and cached; device 2 asks about someone else.
            cache.put(cache.ticket(), "acme", scope, p[0], v, "answer about " + p[0], List.of());
            assertTrue(cache.lookup("acme", scope, "Please tell me: " + p[0], near).isPresent(),
                    "the same identifiers in other words still hit: " + p[0]);
            assertFalse(cache.lookup("acme", scope, p[1], near).isPresent(), p[1] + " got the answer about " + p[0]);
        }
        assertTrue(cache.stats().identifierMismatches() >= pairs.size());
    }
}
