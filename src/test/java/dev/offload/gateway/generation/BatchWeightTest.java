package dev.offload.gateway.generation;

import dev.offload.gateway.privacy.Sensitivity;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How many places of a backend's batch one request takes: the sequences it is decoded as. */
class BatchWeightTest {
    private static GenerationRequest request(List<ChatTurn> turns, Integer n, SamplingOptions.LegacyCompletion legacy) {
        SamplingOptions o = new SamplingOptions(null, null, null, null, null, null, null, null, null, null, null, n,
                null, null, legacy);
        return new GenerationRequest("t", turns, 16, null, Priority.INTERACTIVE, Long.MAX_VALUE, null, List.of("edge"),
                null, Sensitivity.INTERNAL, o);
    }

    @Test
    void aChatIsOneSequencePerChoice() {
        List<ChatTurn> chat = List.of(new ChatTurn("system", "be brief"), new ChatTurn("user", "hi"));
        assertEquals(1, Generator.batchWeight(request(chat, null, null)));
        assertEquals(1, Generator.batchWeight(request(chat, 1, null)));
        assertEquals(5, Generator.batchWeight(request(chat, 5, null)), "the history's length does not count");
    }

    @Test
    void aLegacyCompletionIsOneSequencePerPromptAndCandidate() {
        List<ChatTurn> prompts = List.of(new ChatTurn("prompt", "a"), new ChatTurn("prompt", "b"), new ChatTurn("prompt", "c"));
        assertEquals(3, Generator.batchWeight(request(prompts, null, new SamplingOptions.LegacyCompletion(null, null, null, null))));
        assertEquals(6, Generator.batchWeight(request(prompts, 2, new SamplingOptions.LegacyCompletion(null, null, null, null))));
        assertEquals(12, Generator.batchWeight(request(prompts, 2, new SamplingOptions.LegacyCompletion(null, null, null, 4))),
                "best_of candidates are decoded, not only the n returned");
    }
}
