package dev.offload.gateway.generation;

import dev.offload.gateway.privacy.PiiRedactor;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.privacy.Zone;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.mutiny.helpers.test.AssertSubscriber;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generator's failover, time limits, fallback, gate and coalescing on a fake clock against
 * fake backends: no Quarkus, no sockets, no sleeps. The watchdog is not started; a test moves the
 * clock and runs one watchdog tick itself.
 */
class GeneratorTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    /** A backend whose calls the test answers by hand. */
    static final class FakeBackend implements BackendClient {
        final List<Call> calls = new CopyOnWriteArrayList<>();

        @Override
        public Cancellation stream(GenerationRequest request, String model, Listener listener) {
            Call c = new Call(request, listener);
            calls.add(c);
            return () -> c.cancelled = true;
        }

        Call last() {
            return calls.get(calls.size() - 1);
        }
    }

    static final class Call {
        final GenerationRequest request;
        final BackendClient.Listener listener;
        volatile boolean cancelled;

        Call(GenerationRequest request, BackendClient.Listener listener) {
            this.request = request;
            this.listener = listener;
        }

        String lastMessage() {
            return request.messages().get(request.messages().size() - 1).content();
        }
    }

    /** A tier of fake replicas, ttft and idle limits as given. */
    private record FakeTier(String name, Zone zone, List<FakeBackend> replicas, long ttftMs, long idleMs) {
    }

    /** The tracing SDK the next {@link #generator} gets; null: none (a no-op tracer), as in most tests. */
    private io.opentelemetry.api.OpenTelemetry openTelemetry;

    private Generator generator(Map<String, String> config, FakeTier... tiers) {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        List<Tier> built = new ArrayList<>();
        Map<String, TierRegistry.Settings> settings = new LinkedHashMap<>();
        for (FakeTier f : tiers) {
            List<Replica> replicas = new ArrayList<>();
            for (int i = 0; i < f.replicas().size(); i++) {
                replicas.add(new Replica(f.name(), i, "http://" + f.name() + "-" + i + "/v1", 4, 4, f.replicas().get(i)));
            }
            built.add(new Tier(f.name(), f.zone(), replicas, 16, Long.MAX_VALUE, r -> true, r -> false, now::get));
            settings.put(f.name(), new TierRegistry.Settings("m", f.zone(), 4096, f.ttftMs() * MS, f.idleMs() * MS,
                    new TierMeters(meters, f.name()), null));
        }
        Map<String, String> props = new HashMap<>(config);
        Generator g = new Generator();
        g.tierRegistry = new TierRegistry(built, settings);
        g.config = new SmallRyeConfigBuilder()
                .withConverter(java.time.Duration.class, 200, new io.quarkus.runtime.configuration.DurationConverter()).withSources(new PropertiesConfigSource(props, "test", 250))
                .withMapping(GenerationConfig.class).build().getConfigMapping(GenerationConfig.class);
        g.registry = meters;
        g.redactor = PiiRedactor.withDefaults();
        g.clock = now::get;
        g.worker = Runnable::run;
        g.openTelemetry = openTelemetry;
        g.init(false);
        return g;
    }

    private static GenerationRequest request(String text, Sensitivity s, List<String> tiers) {
        return new GenerationRequest("t", List.of(new ChatTurn("user", text)), 16, null, Priority.INTERACTIVE,
                Long.MAX_VALUE, null, tiers, () -> List.of(new Source("d", "d#0", "Doc", "The pump needs oil. Oil is changed yearly.", 1.0)), s);
    }

    private void advance(long ms) {
        now.addAndGet(ms * MS);
    }

    private static String text(AssertSubscriber<GenerationEvent> s) {
        StringBuilder b = new StringBuilder();
        for (GenerationEvent e : s.getItems()) {
            if (e instanceof GenerationEvent.Token t) {
                b.append(t.text());
            }
        }
        return b.toString();
    }

    private static GenerationEvent.Completed completed(AssertSubscriber<GenerationEvent> s) {
        List<GenerationEvent> items = s.getItems();
        return (GenerationEvent.Completed) items.get(items.size() - 1);
    }

    @Test
    void aMissingFirstTokenFailsOverToTheNextReplicaAtTheTtftLimitAndNotBefore() {
        FakeBackend a = new FakeBackend();
        FakeBackend b = new FakeBackend();
        Generator g = generator(Map.of(), new FakeTier("edge", Zone.EDGE, List.of(a, b), 200, 1000));
        var s = g.generate(request("hello", Sensitivity.INTERNAL, List.of("edge"))).subscribe()
                .withSubscriber(AssertSubscriber.create(100));
        FakeBackend first = a.calls.size() == 1 ? a : b;
        FakeBackend second = first == a ? b : a;
        advance(199);
        g.checkTimeLimits();
        assertTrue(second.calls.isEmpty(), "199 ms: still waiting for the first replica");
        advance(2);
        g.checkTimeLimits();
        assertTrue(first.last().cancelled, "the late call is stopped before the failover starts another");
        assertEquals(1, second.calls.size());
        second.last().listener.onToken("hi");
        second.last().listener.onComplete("stop", 1, 1);
        s.assertCompleted();
        assertEquals("hi", text(s));
        assertEquals("edge:ttft_timeout", completed(s).fallbackReason());
        assertEquals(2, completed(s).attempts());
    }

    @Test
    void aStreamSilentForTheIdleLimitEndsWithAnErrorAndIsNeverRetried() {
        FakeBackend a = new FakeBackend();
        FakeBackend b = new FakeBackend();
        Generator g = generator(Map.of(), new FakeTier("edge", Zone.EDGE, List.of(a, b), 200, 500));
        var s = g.generate(request("hello", Sensitivity.INTERNAL, List.of("edge"))).subscribe()
                .withSubscriber(AssertSubscriber.create(100));
        FakeBackend used = a.calls.isEmpty() ? b : a;
        used.last().listener.onToken("one ");
        advance(499);
        g.checkTimeLimits();
        s.assertNotTerminated();
        advance(2);
        g.checkTimeLimits();
        StreamFailedException f = assertInstanceOf(StreamFailedException.class, s.getFailure());
        assertEquals("idle_timeout", f.reason());
        assertEquals("one ", text(s));
        assertEquals(1, a.calls.size() + b.calls.size(), "after a token nothing is retried elsewhere");
        assertTrue(used.last().cancelled);
    }

    @Test
    void whenEveryTierFailsTheAnswerIsExtractiveWithTheReason() {
        FakeBackend edge = new FakeBackend();
        FakeBackend cloud = new FakeBackend();
        Generator g = generator(Map.of(), new FakeTier("edge", Zone.EDGE, List.of(edge), 200, 500),
                new FakeTier("cloud", Zone.REGIONAL, List.of(cloud), 200, 500));
        var s = g.generate(request("how often is the oil changed", Sensitivity.INTERNAL, List.of("edge", "cloud")))
                .subscribe().withSubscriber(AssertSubscriber.create(100));
        edge.last().listener.onError(new IllegalStateException("500"));
        assertEquals(1, cloud.calls.size(), "the next tier is tried at once");
        cloud.last().listener.onError(new IllegalStateException("500"));
        s.assertCompleted();
        GenerationEvent.Completed c = completed(s);
        assertEquals("extractive", c.servedBy());
        assertEquals("cloud:backend_error", c.fallbackReason());
        assertTrue(text(s).contains("Oil is changed yearly"), text(s));
        assertEquals(ExtractiveFallback.tokens(text(s).length()), c.completionTokens(), "usage counts the quoted text");
    }

    @Test
    void theGateKeepsConfidentialDataInsideTheEdgeZoneAndRedactsWhatLeavesIt() {
        FakeBackend edge = new FakeBackend();
        FakeBackend cloud = new FakeBackend();
        Generator g = generator(Map.of(), new FakeTier("edge", Zone.EDGE, List.of(edge), 200, 500),
                new FakeTier("cloud", Zone.EXTERNAL, List.of(cloud), 200, 500));
        String mail = "ann.lee@example.com";

        var confidential = g.generate(request("write to " + mail, Sensitivity.CONFIDENTIAL, List.of("cloud")))
                .subscribe().withSubscriber(AssertSubscriber.create(100));
        confidential.assertCompleted();
        assertEquals("sensitivity:confidential", completed(confidential).fallbackReason());
        assertTrue(cloud.calls.isEmpty(), "nothing confidential left the edge zone");

        var internal = g.generate(request("write to " + mail, Sensitivity.INTERNAL, List.of("edge", "cloud")))
                .subscribe().withSubscriber(AssertSubscriber.create(100));
        assertEquals("write to " + mail, edge.last().lastMessage(), "inside the zone: as written");
        edge.last().listener.onError(new IllegalStateException("down"));
        assertEquals("write to <EMAIL_1>", cloud.last().lastMessage(), "outside the zone: a placeholder");
        for (String piece : List.of("Sent to <EM", "AIL_", "1>.")) {
            cloud.last().listener.onToken(piece);
        }
        cloud.last().listener.onComplete("stop", 3, 3);
        internal.assertCompleted();
        assertEquals("Sent to " + mail + ".", text(internal));
        assertEquals(1, completed(internal).redactions());

        int calls = edge.calls.size() + cloud.calls.size();
        var restricted = g.generate(request("anything", Sensitivity.RESTRICTED, List.of("edge", "cloud")))
                .subscribe().withSubscriber(AssertSubscriber.create(100));
        restricted.assertCompleted();
        assertEquals("sensitivity:restricted", completed(restricted).fallbackReason());
        assertEquals(calls, edge.calls.size() + cloud.calls.size(), "restricted reached no tier");
    }

    @Test
    void identicalRequestsShareOneCallWhichEndsOnlyWhenTheLastCallerLeaves() {
        FakeBackend a = new FakeBackend();
        Generator g = generator(Map.of(), new FakeTier("edge", Zone.EDGE, List.of(a), 200, 500));
        GenerationRequest r = request("same question", Sensitivity.INTERNAL, List.of("edge"));
        var first = g.generate(r).subscribe().withSubscriber(AssertSubscriber.create(100));
        a.last().listener.onToken("early ");
        var second = g.generate(r).subscribe().withSubscriber(AssertSubscriber.create(100));
        assertEquals(1, a.calls.size(), "the second caller joined the call in flight");
        assertEquals(1, g.sharedInFlight());
        first.cancel();
        assertFalse(a.last().cancelled, "one caller is still there");
        a.last().listener.onToken("late");
        a.last().listener.onComplete("stop", 1, 2);
        second.assertCompleted();
        assertEquals("early late", text(second), "the late joiner got the tokens from the start");
        assertEquals(0, g.sharedInFlight());

        var third = g.generate(r).subscribe().withSubscriber(AssertSubscriber.create(100));
        var fourth = g.generate(r).subscribe().withSubscriber(AssertSubscriber.create(100));
        assertEquals(2, a.calls.size());
        third.cancel();
        fourth.cancel();
        assertTrue(a.last().cancelled, "the last caller leaving cancels the backend call");
        assertEquals(0, g.sharedInFlight(), "and its entry is gone");

        GenerationRequest other = request("same question", Sensitivity.CONFIDENTIAL, List.of("edge"));
        g.generate(r).subscribe().withSubscriber(AssertSubscriber.create(100));
        g.generate(other).subscribe().withSubscriber(AssertSubscriber.create(100));
        assertEquals(4, a.calls.size(), "another sensitivity is another request");
    }

    @Test
    void aDeadlineShorterThanTheMeasuredFirstTokenIsRefusedBeforeAnyWork() {
        FakeBackend a = new FakeBackend();
        Generator g = generator(Map.of(), new FakeTier("edge", Zone.EDGE, List.of(a), 2000, 5000));
        var s = g.generate(request("warm up", Sensitivity.INTERNAL, List.of("edge"))).subscribe()
                .withSubscriber(AssertSubscriber.create(100));
        advance(300);
        a.last().listener.onToken("x");
        a.last().listener.onComplete("stop", 1, 1);
        s.assertCompleted();
        assertEquals(null, g.refusesDeadline(List.of("edge"), now.get() + 400 * MS), "400 ms left > 300 ms TTFT");
        GenerationRejectedException r = g.refusesDeadline(List.of("edge"), now.get() + 200 * MS);
        assertEquals("deadline", r.reason());
        assertEquals(429, r.status());
    }

    @Test
    void theDevicesTextInTheOptionsIsRedactedTooOutsideTheEdgeZone() {
        FakeBackend edge = new FakeBackend();
        FakeBackend cloud = new FakeBackend();
        Generator g = generator(Map.of(), new FakeTier("edge", Zone.EDGE, List.of(edge), 200, 500),
                new FakeTier("cloud", Zone.EXTERNAL, List.of(cloud), 200, 500));
        String mail = "ann.lee@example.com";
        SamplingOptions options = new SamplingOptions(0.9, List.of("END", mail), 7, null, null, null, mail, null);
        GenerationRequest r = new GenerationRequest("t", List.of(new ChatTurn("user", "write to " + mail)), 16, null,
                Priority.INTERACTIVE, Long.MAX_VALUE, null, List.of("edge", "cloud"), null, Sensitivity.INTERNAL, options);
        g.generate(r).subscribe().withSubscriber(AssertSubscriber.create(100));
        assertEquals(options, edge.last().request.options(), "inside the zone: as sent");
        edge.last().listener.onError(new IllegalStateException("down"));
        SamplingOptions sent = cloud.last().request.options();
        assertEquals("<EMAIL_1>", sent.user());
        assertEquals(List.of("END", "<EMAIL_1>"), sent.stop(), "the same placeholder as in the messages");
        assertEquals(0.9, sent.topP());
        assertEquals(7, sent.seed());
    }

    private static SamplingOptions tools(String name, Integer n) {
        return new SamplingOptions(null, null, null, null, null, null, null, null,
                List.of(Map.of("type", "function", "function", Map.of("name", name))), null, null, n, null, null, null);
    }

    @Test
    void toolArgumentsAndResultsAreRedactedOutsideTheEdgeZoneAndTheCallsArgumentsComeBackRestored() {
        FakeBackend cloud = new FakeBackend();
        Generator g = generator(Map.of(), new FakeTier("cloud", Zone.REGIONAL, List.of(cloud), 200, 500));
        String mail = "ann.lee@example.com";
        String card = "4111 1111 1111 1111";
        GenerationRequest r = new GenerationRequest("t", List.of(new ChatTurn("user", "mail " + mail),
                new ChatTurn("assistant", "", null, List.of(new ToolCall("c0", "lookup", "{\"to\":\"" + mail + "\"}"))),
                new ChatTurn("tool", "card on file: " + card, "c0", List.of())), 16, null, Priority.INTERACTIVE,
                Long.MAX_VALUE, null, List.of("cloud"), null, Sensitivity.INTERNAL, tools("send", null));
        var s = g.generate(r).subscribe().withSubscriber(AssertSubscriber.create(100));
        List<ChatTurn> sent = cloud.last().request.messages();
        assertEquals("{\"to\":\"<EMAIL_1>\"}", sent.get(1).toolCalls().get(0).arguments(), "an earlier call's arguments");
        assertEquals("c0", sent.get(1).toolCalls().get(0).id());
        assertEquals("card on file: <CARD_1>", sent.get(2).content(), "a tool's result");
        assertEquals("c0", sent.get(2).toolCallId());
        assertEquals(r.options().tools(), cloud.last().request.options().tools(), "tool definitions are structure, sent as they are");
        BackendClient.Listener l = cloud.last().listener;
        l.onDelta(new ChoiceDelta(0, "", List.of(new ToolCallFragment(0, "call-9", "send", "")), null, null));
        for (String piece : List.of("{\"to\":\"<EM", "AIL_1", ">\",\"card\":\"<CA", "RD_1>\"}")) {
            l.onDelta(new ChoiceDelta(0, "", List.of(new ToolCallFragment(0, null, null, piece)), null, null));
        }
        l.onDelta(new ChoiceDelta(0, "", List.of(), null, "tool_calls"));
        l.onComplete("tool_calls", 10, 5);
        s.assertCompleted();
        StringBuilder args = new StringBuilder();
        String id = null;
        for (GenerationEvent e : s.getItems()) {
            if (e instanceof GenerationEvent.ToolCallDelta d) {
                args.append(d.fragment().arguments());
                id = id == null ? d.fragment().id() : id;
            }
        }
        assertEquals("{\"to\":\"" + mail + "\",\"card\":\"" + card + "\"}", args.toString());
        assertEquals("call-9", id);
        assertEquals("tool_calls", completed(s).finishReason());
        assertEquals(List.of("tool_calls"), completed(s).finishReasons());
    }

    @Test
    void requestsWithOtherToolsOrSeveralChoicesNeverShareACall() {
        FakeBackend a = new FakeBackend();
        Generator g = generator(Map.of(), new FakeTier("edge", Zone.EDGE, List.of(a), 200, 500));
        List<ChatTurn> q = List.of(new ChatTurn("user", "same question"));
        java.util.function.Function<SamplingOptions, GenerationRequest> req = o -> new GenerationRequest("t", q, 16, null,
                Priority.INTERACTIVE, Long.MAX_VALUE, null, List.of("edge"), null, Sensitivity.INTERNAL, o);
        g.generate(req.apply(tools("lookup", null))).subscribe().withSubscriber(AssertSubscriber.create(100));
        g.generate(req.apply(tools("send", null))).subscribe().withSubscriber(AssertSubscriber.create(100));
        assertEquals(2, a.calls.size(), "other tools: another request");
        g.generate(req.apply(tools("lookup", null))).subscribe().withSubscriber(AssertSubscriber.create(100));
        assertEquals(2, a.calls.size(), "the same tools: shared");
        g.generate(req.apply(tools("lookup", 2))).subscribe().withSubscriber(AssertSubscriber.create(100));
        g.generate(req.apply(tools("lookup", 2))).subscribe().withSubscriber(AssertSubscriber.create(100));
        // 1 + 1 + 2 sequences fill the replica's batch of 4: the second n = 2 waits for room, not for the first's samples.
        assertEquals(3, a.calls.size());
        Replica r = g.tiers().get(0).replicas().get(0);
        assertEquals(4, r.inFlight(), "two places for the request of two choices");
        a.calls.get(0).listener.onComplete("stop", 1, 1);
        a.calls.get(1).listener.onComplete("stop", 1, 1);
        assertEquals(2, r.inFlight());
        a.calls.get(2).listener.onComplete("stop", 1, 1);
        assertEquals(4, a.calls.size(), "n > 1: each device gets samples of its own");
    }

    @Test
    void everyChoiceIsRelayedWithItsIndexLogprobsAndFinishReason() {
        FakeBackend a = new FakeBackend();
        Generator g = generator(Map.of(), new FakeTier("edge", Zone.EDGE, List.of(a), 200, 500));
        GenerationRequest r = new GenerationRequest("t", List.of(new ChatTurn("user", "two please")), 16, null,
                Priority.INTERACTIVE, Long.MAX_VALUE, null, List.of("edge"), null, Sensitivity.INTERNAL,
                new SamplingOptions(null, null, null, null, null, null, null, null, null, null, null, 2, true, 1, null));
        var s = g.generate(r).subscribe().withSubscriber(AssertSubscriber.create(100));
        BackendClient.Listener l = a.last().listener;
        String lp = "{\"content\":[{\"token\":\"b\",\"logprob\":-0.5}]}";
        l.onDelta(new ChoiceDelta(1, "b", List.of(), lp, null));
        l.onDelta(new ChoiceDelta(0, "a", List.of(), null, "length"));
        l.onDelta(new ChoiceDelta(1, "", List.of(), null, "stop"));
        l.onComplete("length", 3, 2);
        s.assertCompleted();
        GenerationEvent.Token first = (GenerationEvent.Token) s.getItems().get(0);
        assertEquals(1, first.choice());
        assertEquals(lp, first.logprobs());
        assertEquals(0, ((GenerationEvent.Token) s.getItems().get(1)).choice());
        assertEquals(List.of("length", "stop"), completed(s).finishReasons());
        var output = g.registry.find(dev.offload.gateway.metrics.MetricNames.GEN_AI_TOKEN_USAGE)
                .tags("gen_ai.token.type", "output", "gen_ai.operation.name", "chat", "tier", "edge").summary();
        assertEquals(1, output.count(), "GenAI semantic conventions: one generation");
        assertEquals(2.0, output.totalAmount(), "its completion tokens as the backend counted them");
        assertEquals(1, g.registry.find(dev.offload.gateway.metrics.MetricNames.GEN_AI_TTFT).tag("tier", "edge").timer().count());
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"true", "false"})
    void theCallSpanNamesTheModelTheReplyNamedAndIsAChildOfTheContextWhereGenerateWasCalled(String coalesce) {
        var exporter = io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter.create();
        var tracerProvider = io.opentelemetry.sdk.trace.SdkTracerProvider.builder()
                .addSpanProcessor(io.opentelemetry.sdk.trace.export.SimpleSpanProcessor.create(exporter)).build();
        openTelemetry = io.opentelemetry.sdk.OpenTelemetrySdk.builder().setTracerProvider(tracerProvider).build();
        FakeBackend a = new FakeBackend();
        Generator g = generator(Map.of("gateway.generation.coalesce", coalesce),
                new FakeTier("edge", Zone.EDGE, List.of(a), 1000, 1000));
        var stage = openTelemetry.getTracer("test").spanBuilder("stage").startSpan();
        io.smallrye.mutiny.Multi<GenerationEvent> events;
        try (var ignored = stage.makeCurrent()) {
            events = g.generate(request("hello", Sensitivity.INTERNAL, List.of("edge")));
        }
        // Subscribed after the scope closed, as the query pipeline does on another thread.
        var s = events.subscribe().withSubscriber(AssertSubscriber.create(100));
        a.last().listener.onModel("served-7b");
        a.last().listener.onToken("hi");
        a.last().listener.onComplete("stop", 1, 1);
        s.assertCompleted();
        stage.end();
        var call = exporter.getFinishedSpanItems().stream()
                .filter(d -> d.getKind() == io.opentelemetry.api.trace.SpanKind.CLIENT).findFirst().orElseThrow();
        assertEquals("chat m", call.getName());
        assertEquals("m", call.getAttributes().get(GenAiSpans.REQUEST_MODEL));
        assertEquals("served-7b", call.getAttributes().get(GenAiSpans.RESPONSE_MODEL), "the reply's model, not the request's");
        assertEquals(stage.getSpanContext().getSpanId(), call.getParentSpanId());
        assertEquals(stage.getSpanContext().getTraceId(), call.getTraceId());
        tracerProvider.close();
    }
}
