package dev.offload.gateway.generation;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExtractiveAnswererTest {
    @Test
    void quotesOnlySourceSentencesMostRelatedToTheQuestion() {
        var sources = List.of(
                new Source("d1", "d1#0", "Batteries", "Phones have batteries. Low battery triggers offload to the edge. Screens are bright.", 0.9),
                new Source("d2", "d2#0", "", "Thermal throttling slows the NPU. Fans are absent.", 0.5));
        List<String> lines = new ExtractiveAnswerer(2, 1).answer("when does low battery trigger offload?", sources);
        assertEquals(ExtractiveAnswerer.PREFIX, lines.get(0));
        assertEquals("1. Batteries: \"Low battery triggers offload to the edge.\"", lines.get(1));
        assertTrue(lines.get(2).startsWith("2. d2: \""), "untitled sources are named by id");
        for (String line : lines.subList(1, lines.size())) {
            String quoted = line.substring(line.indexOf('"') + 1, line.lastIndexOf('"'));
            assertTrue(sources.stream().anyMatch(s -> s.text().contains(quoted)), "never invented: " + quoted);
        }
    }

    @Test
    void saysSoWhenThereIsNothingToQuote() {
        assertEquals(List.of(ExtractiveAnswerer.PREFIX, "No indexed source matches the question."),
                new ExtractiveAnswerer(3, 2).answer("anything", List.of()));
    }
}
