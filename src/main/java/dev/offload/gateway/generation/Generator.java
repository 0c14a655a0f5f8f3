package dev.offload.gateway.generation;

import dev.offload.gateway.generation.GenerationEvent.Completed;
import dev.offload.gateway.generation.GenerationEvent.Token;
import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.privacy.PiiRedactor;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.privacy.StreamingRestorer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.smallrye.faulttolerance.api.CircuitBreakerState;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.smallrye.mutiny.subscription.MultiEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.HashSet;
import java.util.Map;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Generation across tiers: admission into the first tier that can take the request in time,
 * a backend call guarded by a SmallRye Fault Tolerance circuit breaker per replica, failover to
 * another replica or the next tier while nothing has reached the caller, and the extractive
 * answer when every tier has failed. Identical concurrent requests of one tenant share one
 * backend call.
 *
 * <p>Time limits: one watchdog thread checks every call in flight each tick (a tenth of the
 * shortest limit, 10–100 ms): a call without a first token after {@code ttft-timeout} fails
 * (and fails over), a stream silent for {@code idle-timeout} ends with an error. One periodic
 * task for all calls, where a timer per call would cost a schedule and a cancel on every
 * request; a limit fires at most one tick late.
 *
 * <p>Non-blocking: {@link #generate} may be called on an event loop; tokens are emitted on the
 * HTTP client's I/O threads.
 */
@ApplicationScoped
public class Generator {
    private static final Logger LOG = Logger.getLogger(Generator.class);

    @Inject
    TierRegistry tierRegistry;
    @Inject
    GenerationConfig config;
    @Inject
    MeterRegistry registry;
    @Inject
    PiiRedactor redactor;
    /** Quarkus' SDK, a no-op unless tracing is switched on (quarkus.otel.sdk.disabled=false); null in unit tests. */
    @Inject
    OpenTelemetry openTelemetry;

    private final Set<Attempt> awaitingFirstToken = ConcurrentHashMap.newKeySet();
    private final Set<Attempt> streaming = ConcurrentHashMap.newKeySet();
    /** The time of every deadline, timeout and measurement here; a fake one in unit tests. */
    LongSupplier clock = System::nanoTime;
    /** Where the extractive answer's sources are fetched (retrieval is CPU work). */
    Executor worker = Infrastructure.getDefaultWorkerPool();
    private Coalescer<GenerationEvent> coalescer;
    private EgressGate gate;
    private GenAiSpans spans;
    private RetryBudget retryBudget;
    private ExtractiveFallback extractive;
    private ScheduledExecutorService watchdog;
    private volatile boolean started;

    void onStart(@Observes StartupEvent e) {
        init();
    }

    /** Builds the tiers from configuration and starts the watchdog (idempotent; no lock once started). */
    void init() {
        if (!started) {
            init(true);
        }
    }

    /**
     * @param startWatchdog false in unit tests, which call {@link #checkTimeLimits()} themselves
     *                      after moving their clock
     */
    synchronized void init(boolean startWatchdog) {
        if (started) {
            return;
        }
        retryBudget = new RetryBudget(config.retryBudgetRatio(), 10);
        extractive = new ExtractiveFallback(new ExtractiveAnswerer(config.extractiveSources(), 2), worker, registry, clock);
        Counter coalesced = registry.counter(MetricNames.COALESCED);
        coalescer = new Coalescer<>(coalesced::increment);
        gate = new EgressGate(redactor, registry);
        spans = new GenAiSpans(openTelemetry);
        Gauge.builder(MetricNames.GENERATION_STREAMS, streaming, Set::size)
                .description("Generation streams in progress").register(registry);
        started = true;
        if (!startWatchdog) {
            return;
        }
        long tick = TimeUnit.MILLISECONDS.toNanos(100);
        for (Tier tier : tierRegistry.tiers()) {
            TierRegistry.Settings t = tierRegistry.settings(tier.name());
            tick = Math.min(tick, Math.min(t.ttftNanos(), t.idleNanos()) / 10);
        }
        tick = Math.max(TimeUnit.MILLISECONDS.toNanos(10), tick);
        watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "generation-watchdog");
            t.setDaemon(true);
            return t;
        });
        watchdog.scheduleWithFixedDelay(this::checkTimeLimits, tick, tick, TimeUnit.NANOSECONDS);
    }

    /** The replica's circuit breaker state (closed when unknown). */
    /** A backend's HTTP refusal of the request itself as {@link BackendRefusedException}; any other failure as it is. */
    static Throwable refusalOrSelf(Tier tier, Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof dev.langchain4j.exception.HttpException h) {
                return BackendRefusedException.refusesRequest(h.statusCode())
                        ? new BackendRefusedException(tier.name(), h.statusCode(), BackendRefusedException.messageOf(h.getMessage()))
                        : failure;
            }
        }
        return failure;
    }

    public CircuitBreakerState circuitState(Replica r) {
        return tierRegistry.circuitState(r);
    }

    /** Tiers in fallback order; empty when none is configured. */
    public List<Tier> tiers() {
        return tierRegistry.tiers();
    }

    /** The tier of that name, or null. */
    public Tier tier(String name) {
        return tierRegistry.tier(name);
    }

    /**
     * Admission's first-token check, before any work is done for a request: whether every one of
     * {@code tierNames} would refuse a request with this deadline because what is left of it is
     * shorter than the tier's measured time to first token. Callers ask it before expensive
     * preparation (retrieval), so a request that cannot be served in time is refused at once
     * rather than after the preparation. It answers only what admission would answer too: a tier
     * without a measured TTFT, or with no replica to call (then the generator falls back to
     * an extractive answer), lets the request through.
     *
     * @return the refusal (counted like admission's, reason {@code deadline}), or null when any tier may take it
     */
    public GenerationRejectedException refusesDeadline(List<String> tierNames, long deadlineNanos) {
        init();
        if (tierNames.isEmpty()) {
            return null;
        }
        long left = deadlineNanos - clock.getAsLong();
        long longestTtft = 0;
        for (String name : tierNames) {
            Tier t = tierRegistry.tier(name);
            double ttft = t == null ? 0 : t.ttftEwmaNanos();
            if (ttft == 0 || left >= ttft || t.state().healthyReplicas() == 0) {
                return null;
            }
            longestTtft = Math.max(longestTtft, (long) ttft);
        }
        for (String name : tierNames) {
            tierRegistry.settings(name).meters().rejection("deadline").increment();
        }
        long retryMs = RetryAfter.jitteredMillis(longestTtft / 1_000_000, ThreadLocalRandom.current());
        return new GenerationRejectedException("deadline", 429, retryMs, "no tier could serve the request (deadline): "
                + Math.max(0, left / 1_000_000) + " ms left, the fastest first token takes longer");
    }

    /** Resets every circuit breaker (tests, operators after maintenance). */
    public void resetCircuits() {
        tierRegistry.resetCircuits();
    }

    /**
     * Streams the answer: tokens, then one {@link Completed}. Fails with
     * {@link GenerationRejectedException} before any token when no tier could take the request
     * (and the extractive fallback does not apply), or with {@link StreamFailedException} after
     * tokens were sent. The GenAI span of each backend call is a child of the trace context
     * current when this method is called (not when the stream is subscribed).
     */
    public Multi<GenerationEvent> generate(GenerationRequest request) {
        init();
        // The trace context of this call, not of the thread that later subscribes: the query
        // pipeline calls from its generation stage's scope and subscribes after it has closed.
        Context parent = Context.current();
        if (!config.coalesce() || request.options().choices() > 1) {
            // Several choices are samples a device asked for on its own: never shared with another's.
            return Multi.createFrom().emitter(em -> new Attempt(request, parent).start(em));
        }
        return coalescer.join(request.coalescingKey(), () -> new Attempt(request, parent), Generator::asJoiner);
    }

    /** A caller sharing another's backend call: its span says so, and so does its end. */
    private static Multi<GenerationEvent> asJoiner(Multi<GenerationEvent> joined) {
        Span.current().setAttribute("gateway.coalesced", true);
        return joined.map(e -> e instanceof Completed c ? c.asCoalesced() : e);
    }

    /** Backend streams currently shared by identical requests (coalescing); 0 when nothing is in flight. */
    public int sharedInFlight() {
        return coalescer == null ? 0 : coalescer.inFlight();
    }

    /** The watchdog's tick: first-token and idle limits of every call, and a pump of every queue. */
    void checkTimeLimits() {
        long now = clock.getAsLong();
        for (Attempt a : awaitingFirstToken) {
            a.checkFirstToken(now);
        }
        for (Attempt a : streaming) {
            a.checkIdle(now);
        }
        // A circuit can open, or a half-open one close, with no call finishing to pump the queue.
        for (Tier t : tierRegistry.tiers()) {
            t.pump();
        }
    }

    /**
     * The restorers of one backend call's answer: one per choice for its text, one per tool call
     * for its arguments (each a stream of its own, in which a placeholder may be split). Used by
     * the call's I/O thread; sorted so held text is released in choice order.
     */
    private static final class Restorers {
        record CallKey(int choice, int call) implements Comparable<CallKey> {
            @Override
            public int compareTo(CallKey o) {
                return choice != o.choice ? Integer.compare(choice, o.choice) : Integer.compare(call, o.call);
            }
        }

        private final java.util.function.Supplier<StreamingRestorer> factory;
        final Map<Integer, StreamingRestorer> content = new java.util.concurrent.ConcurrentSkipListMap<>();
        final Map<CallKey, StreamingRestorer> arguments = new java.util.concurrent.ConcurrentSkipListMap<>();

        Restorers(java.util.function.Supplier<StreamingRestorer> factory) {
            this.factory = factory;
        }

        StreamingRestorer content(int choice) {
            return content.computeIfAbsent(choice, c -> factory.get());
        }

        StreamingRestorer arguments(int choice, int call) {
            return arguments.computeIfAbsent(new CallKey(choice, call), k -> factory.get());
        }
    }

    /**
     * One backend call of an attempt, and whether the attempt gave up on it. The call may be
     * abandoned before {@link BackendClient#stream} has returned its cancellation: whichever of
     * {@link #started} and {@link #abandon} comes second cancels it. Thread-safe.
     */
    private static final class Leg {
        private volatile BackendClient.Cancellation cancellation;
        private volatile boolean abandoned;
        /** The call's client span; taken once by whoever ends it. */
        private final java.util.concurrent.atomic.AtomicReference<Span> span = new java.util.concurrent.atomic.AtomicReference<>();
        /** When the request left for the backend (after the egress gate). */
        private volatile long sentNanos;
        /** The model the backend's reply named ({@code gen_ai.response.model}); null until it names one. */
        private volatile String responseModel;

        /** The span, once: null for the second taker (or when the call never left). */
        Span takeSpan() {
            return span.getAndSet(null);
        }

        void started(BackendClient.Cancellation c) {
            cancellation = c;
            if (abandoned) {
                c.cancel();
            }
        }

        void abandon() {
            abandoned = true;
            BackendClient.Cancellation c = cancellation;
            if (c != null) {
                c.cancel(); // cancelling twice is harmless
            }
        }
    }

    /** The caller went away while its call waited for a first token. */
    static final class CallerLeftException extends RuntimeException {
        CallerLeftException() {
            super("the caller left", null, false, false);
        }
    }

    /** The first token did not arrive within the tier's {@code ttft-timeout}. */
    static final class FirstTokenTimeoutException extends RuntimeException {
        FirstTokenTimeoutException(long limitNanos) {
            super("no first token within " + TimeUnit.NANOSECONDS.toMillis(limitNanos) + " ms", null, false, false);
        }
    }

    /**
     * One request's journey through tiers and replicas. State changes happen on I/O threads and
     * the watchdog; {@code state} arbitrates between a token, a timeout and a cancellation.
     */
    private final class Attempt implements Tier.Ticket, Coalescer.Call<GenerationEvent> {
        private static final int WAITING = 0;
        private static final int QUEUED = 1;
        private static final int CALLING = 2;
        private static final int STREAMING = 3;
        private static final int DONE = 4;

        private final GenerationRequest request;
        private MultiEmitter<? super GenerationEvent> em;
        private final Set<Replica> excluded = new HashSet<>();
        private final Set<Replica> retriedOnSame = new HashSet<>();
        private final AtomicInteger state = new AtomicInteger(WAITING);
        private final long createdNanos = clock.getAsLong();
        /** The caller's trace context where the request reached the generator: the parent of every call's span. */
        private final Context parentContext;
        /** Time waited on backends (every attempt, from its request leaving to its end) and the part before the first token. */
        private volatile long backendNanos;
        private volatile long backendFirstTokenNanos;
        private final List<String> tierOrder;
        private int tierIndex;
        private int attempts;
        private String lastRefusal;
        private long lastRetryAfterNanos;
        private boolean backendFailed;
        private String fallbackReason;
        /** The last tier's refusal of the request as invalid (a backend 4xx), if one refused it. */
        private BackendRefusedException refused;
        /** Some tier asked for was left out because the request's sensitivity may not go there. */
        private boolean refusedBySensitivity;
        private final EgressGate.Exit exit;
        /** Gives the values behind placeholders back in the answer of the call in progress; null when none. */
        private volatile Restorers restorers;
        /** Each choice's finish reason, by index, as the backend stated it. */
        private final Map<Integer, String> finishReasons = new ConcurrentHashMap<>();
        private volatile Tier tier;
        private volatile Replica replica;
        /** The batch slot of the call in progress; closed once with its outcome. */
        private volatile Slot slot;
        private volatile TierRegistry.Settings setup;
        /** The backend call in progress; callbacks of an earlier (failed, cancelled) one are dropped. */
        private volatile Leg leg;
        /** Completes at the first token of the call in progress; the circuit breaker sees the outcome. */
        private volatile CompletableFuture<Boolean> firstToken;
        private volatile boolean callerLeft;
        private volatile long startNanos;
        private volatile long queueNanos;
        private volatile long firstTokenNanos;
        private volatile long lastTokenNanos;
        private volatile int tokensOut;

        Attempt(GenerationRequest request, Context parentContext) {
            this.request = request;
            this.parentContext = parentContext;
            this.exit = gate.open(request);
            List<String> order = new java.util.ArrayList<>();
            for (String name : request.tiers()) {
                Tier t = tierRegistry.tier(name);
                if (t == null) {
                    continue;
                }
                if (EgressGate.allows(request.sensitivity(), t)) {
                    order.add(name);
                } else {
                    gate.refused(request.sensitivity(), t);
                    refusedBySensitivity = true;
                }
            }
            this.tierOrder = List.copyOf(order);
        }

        @Override
        public void start(MultiEmitter<? super GenerationEvent> emitter) {
            em = emitter;
            em.onTermination(this::cancel);
            retryBudget.onFirstAttempt();
            nextTier();
        }

        /** Tries the current tier, then the following ones; ends in extractive or a refusal. */
        private void nextTier() {
            while (tierIndex < tierOrder.size()) {
                Tier t = tierRegistry.tier(tierOrder.get(tierIndex));
                tier = t;
                if (!state.compareAndSet(WAITING, QUEUED)) {
                    return; // cancelled
                }
                Tier.Refusal refusal = t.admit(this);
                if (refusal == null) {
                    return; // started, or waiting in the queue: start() continues
                }
                state.set(WAITING);
                tierRegistry.settings(t.name()).meters().rejection(refusal.reason()).increment();
                lastRefusal = refusal.reason();
                lastRetryAfterNanos = Math.max(lastRetryAfterNanos, refusal.retryAfterNanos());
                if (refusal.reason().equals("no_backend")) {
                    backendFailed = true;
                }
                fallbackReason = t.name() + ":" + refusal.reason();
                tierIndex++;
                excluded.clear();
            }
            exhausted();
        }

        private void exhausted() {
            if (!state.compareAndSet(WAITING, DONE)) {
                return;
            }
            // No tier asked for may receive this request's data: nothing was tried, nothing failed.
            boolean sensitivityOnly = tierOrder.isEmpty() && refusedBySensitivity;
            boolean nothingConfigured = tierOrder.isEmpty() && !refusedBySensitivity;
            if (config.extractiveFallback() && (nothingConfigured || sensitivityOnly || backendFailed)
                    && request.fallbackSources() != null) {
                String reason = nothingConfigured ? "no_tier_configured"
                        : sensitivityOnly ? "sensitivity:" + request.sensitivity().wireName() : fallbackReason;
                registry.counter(MetricNames.FALLBACKS, "to", "extractive", "reason",
                        sensitivityOnly ? "sensitivity" : reasonTag(reason)).increment();
                answerExtractively(reason);
                return;
            }
            if (refused != null && !backendFailed) {
                em.fail(refused); // every tier tried refused the request itself: the client hears why
                return;
            }
            if (sensitivityOnly) {
                em.fail(new GenerationRejectedException("sensitivity", 403, 0, "data of sensitivity '"
                        + request.sensitivity().wireName() + "' may not be sent to any of the tiers " + request.tiers()));
                return;
            }
            String reason = nothingConfigured ? "no_backend" : lastRefusal == null ? "backend_failed" : lastRefusal;
            int status = reason.equals("queue_full") || reason.equals("deadline") || reason.equals("queue_wait") ? 429 : 503;
            // Jittered: devices refused together must not all come back in the same second.
            long retryMs = RetryAfter.jitteredMillis(lastRetryAfterNanos / 1_000_000, ThreadLocalRandom.current());
            em.fail(new GenerationRejectedException(reason, status, retryMs,
                    "no tier could serve the request (" + reason + ")"));
        }

        private void answerExtractively(String reason) {
            extractive.answer(request, reason, attempts, createdNanos, em);
        }

        @Override
        public void stranded() {
            if (!state.compareAndSet(QUEUED, WAITING)) {
                return; // cancelled meanwhile
            }
            Tier t = tier;
            registry.counter(MetricNames.REJECTIONS, "tier", t.name(), "reason", "no_backend").increment();
            lastRefusal = "no_backend";
            backendFailed = true;
            fallbackReason = t.name() + ":no_backend";
            tierIndex++;
            excluded.clear();
            nextTier();
        }

        @Override
        public void start(Slot s, long queuedNanos) {
            Replica r = s.replica();
            TierRegistry.Settings ts = tierRegistry.settings(r.tier());
            // Published before the state says CALLING: cancel() reads them as soon as it does.
            replica = r;
            slot = s;
            setup = ts;
            if (!state.compareAndSet(QUEUED, CALLING)) {
                s.ignored(); // cancelled while the slot was being reserved
                return;
            }
            queueNanos += queuedNanos;
            ts.meters().queueTime.record(queuedNanos, TimeUnit.NANOSECONDS);
            long now = clock.getAsLong();
            if (!tier.firstTokenInTime(this, now)) {
                // Not enough budget left for a first token (it ran out while queued): refuse
                // rather than start work that cannot finish in time.
                state.set(DONE);
                s.ignored();
                ts.meters().rejection("deadline").increment();
                em.fail(new GenerationRejectedException("deadline", 429,
                        RetryAfter.jitteredMillis(1000, ThreadLocalRandom.current()),
                        "too little of the deadline left after queueing"));
                return;
            }
            attempts++;
            startNanos = now;
            ts.meters().attempts.increment();
            awaitingFirstToken.add(this); // the watchdog's first-token clock runs from startNanos
            tierRegistry.guarded(r, this::callBackend).whenComplete((ok, failure) -> {
                if (failure == null) {
                    s.firstToken(startNanos, clock.getAsLong() - startNanos);
                } else {
                    failedBeforeFirstToken(failure instanceof CompletionException && failure.getCause() != null
                            ? failure.getCause() : failure);
                }
            });
        }

        /**
         * Starts the backend call; completes at the first token (or an empty answer), fails on
         * an error before it, on the watchdog's first-token timeout or when the caller leaves.
         */
        private CompletionStage<Boolean> callBackend() {
            CompletableFuture<Boolean> first = new CompletableFuture<>();
            Leg thisLeg = new Leg();
            leg = thisLeg;
            firstToken = first;
            if (callerLeft) {
                // cancel() ran before this leg and its future were visible to it
                thisLeg.abandon();
                first.completeExceptionally(new CallerLeftException());
                return first;
            }
            // The one door out: the tier's zone decides what it receives (redacted outside the edge zone).
            Tier legTier = tier;
            if (exit.prepared(legTier)) {
                send(thisLeg, first, legTier, exit.outbound(legTier));
            } else {
                // Redaction scans every message (patterns, libphonenumber, names): CPU work, done once per
                // request and never on the I/O thread that admitted the request.
                CompletableFuture.supplyAsync(() -> exit.outbound(legTier), worker).whenComplete((sent, failure) -> {
                    if (failure != null) {
                        first.completeExceptionally(failure);
                    } else if (leg != thisLeg || first.isDone()) {
                        thisLeg.abandon(); // timed out or left meanwhile: the failover owns the attempt now
                    } else {
                        send(thisLeg, first, legTier, sent);
                    }
                });
            }
            return first;
        }

        /** Starts the backend stream of one leg with what the gate let out; its tokens come back restored. */
        private void send(Leg thisLeg, CompletableFuture<Boolean> first, Tier legTier, GenerationRequest sent) {
            Restorers restore = exit.restorer(legTier) == null ? null : new Restorers(() -> exit.restorer(legTier));
            restorers = restore;
            Span span = spans.start(parentContext, sent, setup.model(), replica, attempts, queueNanos, fallbackReason);
            thisLeg.span.set(span);
            thisLeg.sentNanos = clock.getAsLong();
            // The span is current while the client starts the request, so its trace context goes out with it (traceparent).
            Scope scope = span.getSpanContext().isValid() ? parentContext.with(span).makeCurrent() : null;
            try {
                start(thisLeg, first, restore, legTier, sent);
            } finally {
                if (scope != null) {
                    scope.close();
                }
            }
        }

        private void start(Leg thisLeg, CompletableFuture<Boolean> first, Restorers restore, Tier legTier, GenerationRequest sent) {
            TierMeters meters = setup.meters();
            BackendClient.Cancellation c = replica.client().stream(sent, setup.model(), new BackendClient.Listener() {
                @Override
                public void onModel(String model) {
                    thisLeg.responseModel = model;
                }

                @Override
                public void onDelta(ChoiceDelta d) {
                    if (leg != thisLeg) {
                        return;
                    }
                    if (d.finishReason() != null) {
                        finishReasons.put(d.choice(), d.finishReason());
                    }
                    if (!d.carriesOutput()) {
                        return;
                    }
                    long now = clock.getAsLong();
                    if (state.get() == CALLING) {
                        // Before the watchdog can see this stream: it measures idleness from lastTokenNanos.
                        lastTokenNanos = now;
                    }
                    if (state.compareAndSet(CALLING, STREAMING)) {
                        firstTokenNanos = now;
                        backendFirstTokenNanos += now - thisLeg.sentNanos;
                        meters.ttft.record(now - startNanos, TimeUnit.NANOSECONDS);
                        meters.genAi(request).ttft().record(now - createdNanos, TimeUnit.NANOSECONDS);
                        streaming.add(Attempt.this);
                        awaitingFirstToken.remove(Attempt.this);
                        first.complete(true);
                    } else if (state.get() == STREAMING) {
                        meters.interToken.record(now - lastTokenNanos, TimeUnit.NANOSECONDS);
                    } else {
                        return;
                    }
                    lastTokenNanos = now;
                    tokensOut++;
                    String out = restore == null ? d.content() : restore.content(d.choice()).next(d.content());
                    if (!out.isEmpty() || d.logprobs() != null) {
                        em.emit(new Token(d.choice(), out, d.logprobs()));
                    }
                    for (ToolCallFragment f : d.toolCalls()) {
                        // Arguments are restored per call: a placeholder may be split over fragments.
                        String args = restore == null ? f.arguments() : restore.arguments(d.choice(), f.index()).next(f.arguments());
                        em.emit(new GenerationEvent.ToolCallDelta(d.choice(),
                                new ToolCallFragment(f.index(), f.id(), f.name(), args)));
                    }
                }

                @Override
                public void onComplete(String finishReason, Integer promptTokens, Integer completionTokens) {
                    if (leg != thisLeg) {
                        return;
                    }
                    int s = state.get();
                    if (s == CALLING) {
                        if (!state.compareAndSet(CALLING, DONE)) {
                            return;
                        }
                        awaitingFirstToken.remove(Attempt.this);
                        first.complete(true);
                    } else if (s != STREAMING || !state.compareAndSet(STREAMING, DONE)) {
                        return;
                    }
                    finish(finishReason, promptTokens, completionTokens);
                }

                @Override
                public void onError(Throwable failure) {
                    if (leg != thisLeg) {
                        return;
                    }
                    if (state.get() == CALLING) {
                        first.completeExceptionally(refusalOrSelf(legTier, failure));
                    } else if (state.compareAndSet(STREAMING, DONE)) {
                        failMidStream("backend_error", failure);
                    }
                }
            });
            thisLeg.started(c);
        }

        /** Watchdog: fails the attempt when its first token is overdue (failover follows). */
        void checkFirstToken(long now) {
            TierRegistry.Settings ts = setup;
            CompletableFuture<Boolean> first = firstToken;
            if (first != null && state.get() == CALLING && now - startNanos > ts.ttftNanos()) {
                first.completeExceptionally(new FirstTokenTimeoutException(ts.ttftNanos())); // a second completion is ignored
            }
        }

        private void finish(String finishReason, Integer promptTokens, Integer completionTokens) {
            streaming.remove(this);
            Replica r = replica;
            TierMeters meters = setup.meters();
            long now = clock.getAsLong();
            Leg l = leg;
            if (l != null) {
                backendNanos += now - l.sentNanos;
                if (firstTokenNanos == 0) {
                    backendFirstTokenNanos += now - l.sentNanos; // an answer without a token: its end is its first byte
                }
            }
            slot.completed(now - startNanos);
            if (firstTokenNanos != 0) {
                tier.recordCompletion(firstTokenNanos - startNanos, tokensOut, lastTokenNanos - firstTokenNanos);
            }
            int in = promptTokens != null ? promptTokens : request.promptTokenEstimate();
            int out = completionTokens != null ? completionTokens : tokensOut;
            meters.tokensIn.increment(in);
            meters.tokensOut.increment(out);
            TierMeters.GenAi genAi = meters.genAi(request);
            genAi.inputTokens().record(in);
            genAi.outputTokens().record(out);
            meters.served.increment();
            releaseHeldText();
            int redactions = 0;
            if (tier.external()) {
                for (int n : exit.redactions().values()) {
                    redactions += n;
                }
            }
            exit.audit(tier, attempts);
            int choices = request.options().choices();
            for (Integer i : finishReasons.keySet()) {
                choices = Math.max(choices, i + 1); // a legacy completion of several prompts has more
            }
            List<String> reasons = new java.util.ArrayList<>(choices);
            for (int i = 0; i < choices; i++) {
                reasons.add(finishReasons.getOrDefault(i, i == 0 && finishReason != null ? finishReason : "stop"));
            }
            long ttft = firstTokenNanos == 0 ? 0 : firstTokenNanos - startNanos;
            Span span = l == null ? null : l.takeSpan();
            if (span != null) {
                GenAiSpans.completed(span, l.responseModel, in, out, reasons, ttft);
            }
            em.emit(new Completed(r.tier(), r.url(), finishReason != null ? finishReason : reasons.get(0), in, out,
                    queueNanos, ttft, attempts, fallbackReason, redactions, reasons, backendNanos, backendFirstTokenNanos,
                    false));
            em.complete();
        }

        private void failedBeforeFirstToken(Throwable failure) {
            Replica r = replica;
            int s = state.get();
            if (s == STREAMING || s == DONE) {
                // A token or the end raced with the timeout, or the caller left; the stream owns the outcome.
                return;
            }
            if (!state.compareAndSet(CALLING, WAITING)) {
                return;
            }
            awaitingFirstToken.remove(this);
            // From here on nothing of this call reaches the caller; a timed-out call is stopped
            // before the failover starts another (a no-op for one that already ended).
            Leg failed = leg;
            leg = null;
            if (failed != null) {
                failed.abandon();
            }
            if (failure instanceof BackendRefusedException refusal) {
                // The backend says the request is invalid: the tier's other replicas serve the same model
                // and would say the same; another tier might not (a larger window, another server).
                endSpan(failed, "backend_refused", failure);
                slot.ignored();
                setup.meters().failure("backend_refused").increment();
                LOG.debugf("%s refused the request (%d): %s", r.url(), refusal.status(), refusal.getMessage());
                refused = refusal;
                fallbackReason = r.tier() + ":backend_refused";
                tierIndex++;
                excluded.clear();
                nextTier();
                return;
            }
            boolean prevented = failure instanceof org.eclipse.microprofile.faulttolerance.exceptions.CircuitBreakerOpenException;
            String reason = failure instanceof FirstTokenTimeoutException
                    ? "ttft_timeout" : prevented ? "circuit_open" : "backend_error";
            endSpan(failed, reason, failure);
            if (prevented) {
                slot.ignored(); // the breaker refused the call: nothing was measured
            } else {
                slot.dropped(startNanos, clock.getAsLong() - startNanos);
            }
            LOG.debugf("attempt on %s failed before the first token: %s", r.url(), failure.toString());
            setup.meters().failure(reason).increment();
            backendFailed = true;
            fallbackReason = r.tier() + ":" + reason;
            // A connection the pool handed out already closed says nothing about the replica:
            // try it once more before excluding it.
            if (!(connectionClosed(failure) && retriedOnSame.add(r))) {
                excluded.add(r);
            }
            if (attempts >= config.maxAttempts() || (!prevented && !retryBudget.tryRetry())) {
                tierIndex = tierOrder.size(); // no more backend attempts: straight to the fallback
                registry.counter(MetricNames.FALLBACKS, "to", "none", "reason", "retry_budget").increment();
                exhausted();
                return;
            }
            // Same tier, another replica; nextTier() moves on when none is left.
            boolean otherReplica = tier.replicas().stream().anyMatch(x -> !excluded.contains(x));
            if (!otherReplica) {
                registry.counter(MetricNames.FALLBACKS, "to", "next_tier", "reason", reason).increment();
                tierIndex++;
                excluded.clear();
            }
            nextTier();
        }

        /** Ends a failed leg's client span (once) and counts the time spent waiting on that backend. */
        private void endSpan(Leg failed, String reason, Throwable failure) {
            Span span = failed == null ? null : failed.takeSpan();
            if (span != null) {
                long waited = clock.getAsLong() - failed.sentNanos;
                backendNanos += waited;
                backendFirstTokenNanos += waited;
                GenAiSpans.failed(span, reason, failure);
            }
        }

        /** Text the restorer still holds (the start of what looked like a placeholder) goes out before the end. */
        private void releaseHeldText() {
            Restorers rs = restorers;
            if (rs != null) {
                rs.content.forEach((choice, r) -> {
                    String tail = r.finish();
                    if (!tail.isEmpty()) {
                        em.emit(new Token(choice, tail, null));
                    }
                });
                rs.arguments.forEach((key, r) -> {
                    String tail = r.finish();
                    if (!tail.isEmpty()) {
                        em.emit(new GenerationEvent.ToolCallDelta(key.choice(),
                                new ToolCallFragment(key.call(), null, null, tail)));
                    }
                });
            }
        }

        private void failMidStream(String reason, Throwable cause) {
            streaming.remove(this);
            Leg l = leg;
            Span span = l == null ? null : l.takeSpan();
            if (span != null) {
                GenAiSpans.failed(span, "mid_stream_" + reason, cause);
            }
            releaseHeldText();
            slot.ignored();
            setup.meters().failure("mid_stream_" + reason).increment();
            em.fail(new StreamFailedException(reason, "the backend stream failed after " + tokensOut + " tokens", cause));
        }

        /** Watchdog: ends a stream that has been silent for longer than the tier's idle timeout. */
        void checkIdle(long now) {
            if (state.get() == STREAMING && now - lastTokenNanos > setup.idleNanos() && state.compareAndSet(STREAMING, DONE)) {
                Leg l = leg;
                if (l != null) {
                    l.abandon();
                }
                failMidStream("idle_timeout", null);
            }
        }

        /** The caller went away: stop waiting or stop the backend call, and free the slot. */
        @Override
        public void cancel() {
            while (true) {
                int s = state.get();
                if (s == DONE) {
                    return;
                }
                if (!state.compareAndSet(s, DONE)) {
                    continue;
                }
                callerLeft = true;
                if (s == QUEUED) {
                    Tier t = tier;
                    if (t != null && !t.withdraw(this)) {
                        // start() is reserving a slot right now; it sees DONE and releases it.
                        return;
                    }
                } else if (s == CALLING || s == STREAMING) {
                    awaitingFirstToken.remove(this);
                    streaming.remove(this);
                    Leg l = leg; // if not yet visible, callBackend() sees callerLeft
                    if (l != null) {
                        l.abandon();
                        Span span = l.takeSpan();
                        if (span != null) {
                            GenAiSpans.cancelled(span);
                        }
                    }
                    setup.meters().cancelled.increment();
                    slot.ignored();
                    if (s == CALLING) {
                        // Settle the guarded call so the circuit breaker does not wait on it
                        // forever (a half-open circuit admits a bounded number of trial calls);
                        // the guard is told to skip this exception: a caller leaving says
                        // nothing about the replica.
                        CompletableFuture<Boolean> first = firstToken;
                        if (first != null) {
                            first.completeExceptionally(new CallerLeftException());
                        }
                    }
                }
                return;
            }
        }

        @Override
        public String tenant() {
            return request.tenant();
        }

        @Override
        public Priority priority() {
            return request.priority();
        }

        @Override
        public long deadlineNanos() {
            return request.deadlineNanos();
        }

        @Override
        public String affinityKey() {
            return request.affinityKey();
        }

        @Override
        public Set<Replica> excluded() {
            return excluded;
        }

        @Override
        public int weight() {
            return batchWeight(request);
        }
    }

    /**
     * The sequences a backend decodes at once for a request: {@code n} choices (or {@code best_of}
     * candidates), for each prompt of a legacy completion.
     */
    static int batchWeight(GenerationRequest request) {
        SamplingOptions o = request.options();
        int perPrompt = o.choices();
        int prompts = 1;
        if (o.legacy() != null) {
            if (o.legacy().bestOf() != null) {
                perPrompt = Math.max(perPrompt, o.legacy().bestOf());
            }
            prompts = Math.max(1, request.messages().size());
        }
        return perPrompt * prompts;
    }

    /** A transport failure before any response byte: the connection was closed under the request. */
    static boolean connectionClosed(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ConnectionClosedException) {
                return true;
            }
        }
        return false;
    }

    private static String reasonTag(String reason) {
        int i = reason == null ? -1 : reason.indexOf(':');
        return i < 0 ? String.valueOf(reason) : reason.substring(i + 1);
    }

    void onStop(@Observes ShutdownEvent e) {
        if (watchdog != null) {
            watchdog.shutdownNow();
        }
    }
}
