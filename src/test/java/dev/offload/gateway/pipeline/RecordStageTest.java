package dev.offload.gateway.pipeline;

import dev.offload.gateway.cache.SemanticCache;
import dev.offload.gateway.generation.GenerationEvent;
import dev.offload.gateway.privacy.Sensitivity;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smallrye.mutiny.Multi;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecordStageTest {
    private final StageFixtures f = StageFixtures.create();
    private final SemanticCache cache = StageFixtures.cache(f.now);
    private final RecordStage stage = new RecordStage(cache, new SimpleMeterRegistry(), 40, f.now::get);
    private final AdmitStage admit = new AdmitStage(StageFixtures.QUERY, StageFixtures.RETRIEVAL, StageFixtures.GENERATION,
            t -> Sensitivity.INTERNAL, StageFixtures::tiers, (tiers, d) -> null, cache, f.now::get);

    private QueryContext prepared(String question) {
        QueryContext c = admit.begin("t", StageFixtures.query(question), null);
        c.cacheTicket = cache.ticket();
        c.vector = new float[]{0.6f, 0.8f};
        c.hits = List.of(StageFixtures.chunk("manual", "The pump P-7 seal is changed every 2000 hours of running time.", null));
        c.level = Sensitivity.INTERNAL;
        c.prompt = new PromptBuilder("sys", "Context:", 1).build(question, List.of(), List.of(), 1000);
        c.hint = new dev.offload.gateway.offload.policy.OffloadHint(dev.offload.gateway.offload.policy.OffloadHint.Target.EDGE,
                List.of(), null, 1000, null, null);
        f.now.addAndGet(TimeUnit.MILLISECONDS.toNanos(30));
        c.retrievedNanos = f.now.get();
        return c;
    }

    private static GenerationEvent.Completed done(String servedBy, String finish) {
        return new GenerationEvent.Completed(servedBy, null, finish, 10, 2, 0, TimeUnit.MILLISECONDS.toNanos(5), 1, null, 0);
    }

    @Test
    void sourcesComeFirstThenTheTokensThenTheFinalWithTheHintAndTimings() {
        QueryContext c = prepared("when is the seal changed");
        f.now.addAndGet(TimeUnit.MILLISECONDS.toNanos(70));
        List<QueryEvent> events = stage.answer(c, Multi.createFrom().items(new GenerationEvent.Token("every "),
                new GenerationEvent.Token("2000 h"), done("edge", "stop"))).collect().asList().await().indefinitely();
        QueryEvent.Sources s = assertInstanceOf(QueryEvent.Sources.class, events.get(0));
        assertTrue(s.sources().get(0).snippet().endsWith("…"), "snippets are cut at a word: " + s.sources().get(0).snippet());
        QueryEvent.Final fin = assertInstanceOf(QueryEvent.Final.class, events.get(3));
        assertEquals("every 2000 h", fin.answer());
        assertEquals(30.0, fin.timings().retrieveMs(), 1e-9);
        assertEquals(100.0, fin.timings().totalMs(), 1e-9);
        assertEquals(5.0, fin.timings().ttftMs(), 1e-9);
        assertTrue(cache.containsExact("t", c.scope, "when is the seal changed"), "a whole model answer is cached");
    }

    @Test
    void extractiveAndBrokenOffAnswersAreNotCached() {
        QueryContext extractive = prepared("a");
        stage.answer(extractive, Multi.createFrom().items(new GenerationEvent.Token("x"), done("extractive", "stop")))
                .collect().asList().await().indefinitely();
        assertFalse(cache.containsExact("t", extractive.scope, "a"));
        QueryContext cut = prepared("b");
        stage.answer(cut, Multi.createFrom().items(new GenerationEvent.Token("x"), done("edge", "content_filter")))
                .collect().asList().await().indefinitely();
        assertFalse(cache.containsExact("t", cut.scope, "b"));
    }
}
