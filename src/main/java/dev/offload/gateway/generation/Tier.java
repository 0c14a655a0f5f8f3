package dev.offload.gateway.generation;

import dev.offload.gateway.privacy.Zone;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * A pool of replicas of one model plus the waiting room in front of them. Admission is
 * immediate when a replica has a free slot under its adaptive limit; otherwise the request
 * waits in the {@link AdmissionQueue} unless the queue is full or the request could not finish
 * before its deadline from the current estimate, in which cases it is refused at once.
 *
 * <p>Replica choice: among replicas with a free slot and a circuit that lets calls through,
 * requests with an affinity key go to the first by rendezvous hashing of the key (so requests
 * sharing a retrieved context land where that prefix is cached), unless that replica is
 * more than half a batch busier than the least loaded one; others go to the least loaded.
 *
 * <p>Deadlines: a request is refused (reason {@code deadline}) when what is left of its
 * deadline is shorter than the tier's measured time to first token, or, when it would wait,
 * shorter than the estimated wait plus one service time: a call that cannot produce a first
 * token in time is backend work nobody will use.
 *
 * <p>Recovery: a replica whose circuit is half-open takes one call at a time (the probe), so a
 * backend coming back is not handed a full batch of requests the circuit breaker would
 * refuse anyway; once the probe succeeds and the circuit closes, the adaptive limit applies.
 *
 * <p>Thread-safe: one lock per tier, held only for bookkeeping; backend calls start outside it.
 */
public final class Tier {
    /** A request as the tier sees it. */
    interface Ticket {
        String tenant();

        Priority priority();

        long deadlineNanos();

        String affinityKey();

        /** Replicas that already failed this request. */
        Set<Replica> excluded();

        /**
         * Batch places the request takes: the sequences the backend decodes for it at once (a
         * request of {@code n} choices is {@code n} sequences in vLLM's batch, not one).
         */
        default int weight() {
            return 1;
        }

        /** Called outside the tier's lock once a slot is reserved; the ticket closes it exactly once. */
        void start(Slot slot, long queuedNanos);

        /**
         * Called outside the tier's lock when the ticket was taken out of the queue because no
         * replica it may use can take calls any more (every circuit open): it must go elsewhere.
         */
        void stranded();
    }

    /** Why a ticket was not admitted. */
    record Refusal(String reason, long retryAfterNanos) {
    }

    static final double AFFINITY_SLACK = 0.5;

    private final String name;
    private final Zone zone;
    private final List<Replica> replicas;
    private final AdmissionQueue<Ticket> queue;
    private final Predicate<Replica> callable;
    private final Predicate<Replica> probing;
    private final LongSupplier clock;
    private final java.util.Map<Ticket, Long> enqueuedAt = new java.util.HashMap<>();
    private volatile double serviceEwmaNanos;
    private volatile double ttftEwmaNanos;
    private volatile double decodeNanosPerTokenEwma;
    private final long maxQueueWaitNanos;

    Tier(String name, Zone zone, List<Replica> replicas, int queueSize, Predicate<Replica> callable,
         LongSupplier clock) {
        this(name, zone, replicas, queueSize, Long.MAX_VALUE, callable, clock);
    }

    /**
     * @param maxQueueWaitNanos refuse a request whose estimated wait for a slot exceeds this,
     *                          whatever its own deadline: protection for clients that state none
     */
    Tier(String name, Zone zone, List<Replica> replicas, int queueSize, long maxQueueWaitNanos,
         Predicate<Replica> callable, LongSupplier clock) {
        this(name, zone, replicas, queueSize, maxQueueWaitNanos, callable, r -> false, clock);
    }

    /**
     * @param callable whether a replica may be called at all (its circuit is not open)
     * @param probing  whether a callable replica is only being probed (its circuit is half-open):
     *                 it then takes one call at a time
     */
    Tier(String name, Zone zone, List<Replica> replicas, int queueSize, long maxQueueWaitNanos,
         Predicate<Replica> callable, Predicate<Replica> probing, LongSupplier clock) {
        this.maxQueueWaitNanos = maxQueueWaitNanos;
        this.probing = probing;
        this.name = name;
        this.zone = java.util.Objects.requireNonNull(zone);
        this.replicas = List.copyOf(replicas);
        this.queue = new AdmissionQueue<>(queueSize);
        this.callable = callable;
        this.clock = clock;
    }

    /**
     * Admits the ticket (it starts now or waits its turn) or refuses it.
     *
     * @return null when admitted
     */
    Refusal admit(Ticket t) {
        Replica chosen;
        synchronized (this) {
            if (replicas.stream().noneMatch(r -> callable.test(r) && !t.excluded().contains(r))) {
                return new Refusal("no_backend", estimateWaitNanos(queue.size()));
            }
            long now = clock.getAsLong();
            if (!firstTokenInTime(t, now)) {
                return new Refusal("deadline", estimateWaitNanos(queue.size() + 1) + (long) ttftEwmaNanos);
            }
            chosen = queue.size() == 0 ? choose(t) : null;
            if (chosen != null) {
                chosen.acquire(t.weight());
            } else {
                long wait = estimateWaitNanos(queue.size() + 1);
                if (queue.size() >= queue.capacity()) {
                    return new Refusal("queue_full", wait);
                }
                if (serviceEwmaNanos > 0 && now + wait + (long) serviceEwmaNanos > t.deadlineNanos()) {
                    return new Refusal("deadline", wait);
                }
                if (wait > maxQueueWaitNanos) {
                    return new Refusal("queue_wait", wait);
                }
                queue.offer(t.tenant(), t.priority(), t);
                enqueuedAt.put(t, now);
                return null;
            }
        }
        t.start(new Slot(this, chosen, t.weight()), 0);
        return null;
    }

    /**
     * Whether what is left of the ticket's deadline covers the tier's measured time to first
     * token; until one was measured (the tier cannot know yet), whether any of it is left.
     */
    boolean firstTokenInTime(Ticket t, long now) {
        long left = t.deadlineNanos() - now;
        double ttft = ttftEwmaNanos;
        return left > 0 && (ttft == 0 || left >= ttft);
    }

    /** Moving average of the time to first token of this tier's calls; 0 until one completed. */
    public double ttftEwmaNanos() {
        return ttftEwmaNanos;
    }

    /** Withdraws a waiting ticket; false if it already started. */
    synchronized boolean withdraw(Ticket t) {
        if (queue.remove(t.tenant(), t.priority(), t)) {
            enqueuedAt.remove(t);
            return true;
        }
        return false;
    }

    /** Frees a slot and starts whatever can start now; only {@link Slot} calls it, once per slot. */
    void release(Replica replica, int weight, long serviceNanos) {
        if (serviceNanos > 0) {
            serviceEwmaNanos = serviceEwmaNanos == 0 ? serviceNanos : 0.9 * serviceEwmaNanos + 0.1 * serviceNanos;
        }
        replica.release(weight);
        pump();
    }

    /** Starts queued tickets while slots are free; deadlines that passed while waiting are left to their callers. */
    void pump() {
        List<Object[]> starts = new ArrayList<>();
        synchronized (this) {
            while (queue.size() > 0) {
                Ticket head = queue.peek();
                Replica r = choose(head);
                if (r == null) {
                    // The head cannot go anywhere now. If no replica at all can take it (all
                    // excluded or open), others behind it still might: try them once.
                    if (anySlot()) {
                        Ticket other = firstStartable();
                        if (other == null) {
                            break;
                        }
                        head = other;
                        r = choose(other);
                    } else {
                        break;
                    }
                } else {
                    queue.poll();
                }
                r.acquire(head.weight());
                long queued = clock.getAsLong() - enqueuedAt.remove(head);
                starts.add(new Object[]{head, r, queued});
            }
        }
        for (Object[] s : starts) {
            ((Ticket) s[0]).start(new Slot(this, (Replica) s[1], ((Ticket) s[0]).weight()), (Long) s[2]);
        }
        for (Ticket t : drainStranded()) {
            t.stranded();
        }
    }

    /**
     * Waiting tickets no replica can serve any more (their circuits opened while they waited):
     * left in the queue they would wait out their whole deadline, so they leave it now and fail
     * over to the next tier or the extractive answer.
     */
    private List<Ticket> drainStranded() {
        synchronized (this) {
            if (queue.size() == 0) {
                return List.of();
            }
            List<Ticket> all = new ArrayList<>();
            for (Ticket t; (t = queue.poll()) != null; ) {
                all.add(t);
            }
            List<Ticket> stranded = new ArrayList<>();
            for (Ticket t : all) {
                if (replicas.stream().anyMatch(r -> callable.test(r) && !t.excluded().contains(r))) {
                    queue.offer(t.tenant(), t.priority(), t); // same order as before; capacity not exceeded
                } else {
                    enqueuedAt.remove(t);
                    stranded.add(t);
                }
            }
            return stranded;
        }
    }

    private boolean anySlot() {
        for (Replica r : replicas) {
            if (callable.test(r) && freeSlot(r, 1)) {
                return true;
            }
        }
        return false;
    }

    /** Rare path: a waiting ticket other than the head that some free replica can take. */
    private Ticket firstStartable() {
        List<Ticket> skipped = new ArrayList<>();
        Ticket found = null;
        for (Ticket t; (t = queue.poll()) != null; ) {
            if (choose(t) != null) {
                found = t;
                break;
            }
            skipped.add(t);
        }
        for (Ticket t : skipped) {
            // Re-queue in the order they left; capacity is not exceeded (they were all inside).
            queue.offer(t.tenant(), t.priority(), t);
        }
        return found;
    }

    /** Calls the replica may carry: its adaptive limit, or one (the probe) while its circuit is half-open. */
    private int slots(Replica r) {
        return probing.test(r) ? 1 : r.limit();
    }

    /** Room for {@code weight} under the replica's limit; a half-open replica has one place, for its probe. */
    private boolean freeSlot(Replica r, int weight) {
        return probing.test(r) ? r.inFlight() == 0 : r.hasRoom(weight);
    }

    private Replica choose(Ticket t) {
        List<Replica> free = new ArrayList<>(replicas.size());
        for (Replica r : replicas) {
            if (!t.excluded().contains(r) && callable.test(r) && freeSlot(r, t.weight())) {
                free.add(r);
            }
        }
        if (free.isEmpty()) {
            return null;
        }
        Replica leastLoaded = free.stream().min(Comparator.comparingDouble(Replica::load)).orElseThrow();
        if (t.affinityKey() == null || free.size() == 1) {
            return leastLoaded;
        }
        Replica preferred = free.stream()
                .max(Comparator.comparingLong(r -> mix(t.affinityKey().hashCode() * 31L + r.index())))
                .orElseThrow();
        // Keep affinity (a warm prefix cache saves prefill) unless the preferred replica carries
        // more than half a batch more than the least loaded one.
        return preferred.load() - leastLoaded.load() <= AFFINITY_SLACK ? preferred : leastLoaded;
    }

    private static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        x *= 0xc4ceb9fe1a85ec53L;
        return x ^ (x >>> 33);
    }

    /**
     * Expected wait for the n-th waiting request: n / (total slots / mean service time).
     * Zero until a service time has been measured.
     */
    long estimateWaitNanos(int position) {
        if (serviceEwmaNanos == 0 || position <= 0) {
            return 0;
        }
        int slots = 0;
        for (Replica r : replicas) {
            if (callable.test(r)) {
                slots += slots(r);
            }
        }
        return slots == 0 ? (long) serviceEwmaNanos : (long) (position * serviceEwmaNanos / slots);
    }

    /**
     * Feeds the tier's live measurements with one completed backend call.
     *
     * @param ttftNanos   admission to first token
     * @param tokens      completion tokens
     * @param decodeNanos first token to last token
     */
    void recordCompletion(long ttftNanos, int tokens, long decodeNanos) {
        if (ttftNanos > 0) {
            ttftEwmaNanos = ewma(ttftEwmaNanos, ttftNanos);
        }
        if (tokens > 1 && decodeNanos > 0) {
            decodeNanosPerTokenEwma = ewma(decodeNanosPerTokenEwma, (double) decodeNanos / (tokens - 1));
        }
    }

    private static double ewma(double current, double sample) {
        return current == 0 ? sample : 0.9 * current + 0.1 * sample;
    }

    /**
     * What the tier looks like now, for offload decisions and capacity reports.
     *
     * @param external            the tier is outside the edge zone ({@link Zone#insideEdgeZone()} false)
     * @param replicas            configured replicas
     * @param healthyReplicas     replicas whose circuit lets calls through
     * @param slots               sum of the healthy replicas' adaptive limits
     * @param inFlight            calls running on the tier
     * @param queueLength         requests waiting for a slot
     * @param waitMillis          estimated wait of a request arriving now (0 with a free slot)
     * @param ttftMillis          moving average of time to first token; 0 until measured
     * @param tokensPerSecond     moving average of one stream's decode speed; 0 until measured
     * @param serviceMillis       moving average of one call's duration; 0 until measured
     * @param maxQueueWaitMillis  admission refuses a request whose estimated wait exceeds this
     */
    public record State(String name, boolean external, int replicas, int healthyReplicas, int slots, int inFlight,
                        int queueLength, int queueCapacity, double waitMillis, double ttftMillis,
                        double tokensPerSecond, double serviceMillis, double maxQueueWaitMillis) {
        /** A state without a queue-wait limit. */
        public State(String name, boolean external, int replicas, int healthyReplicas, int slots, int inFlight,
                     int queueLength, int queueCapacity, double waitMillis, double ttftMillis,
                     double tokensPerSecond, double serviceMillis) {
            this(name, external, replicas, healthyReplicas, slots, inFlight, queueLength, queueCapacity, waitMillis,
                    ttftMillis, tokensPerSecond, serviceMillis, Double.POSITIVE_INFINITY);
        }

        /** True when a request arriving now would be refused for a full queue. */
        public boolean queueFull() {
            return queueLength >= queueCapacity;
        }

        /** True when a request arriving now would be refused because its wait exceeds the limit. */
        public boolean waitOverLimit() {
            return waitMillis > maxQueueWaitMillis;
        }

        /**
         * True when admission would refuse a request arriving now with this budget: it would have to
         * queue, and its wait plus a mean call exceeds the budget (admission's deadline check).
         */
        public boolean refusesBudget(long budgetMillis) {
            return waitMillis > 0 && serviceMillis > 0 && waitMillis + serviceMillis > budgetMillis;
        }
    }

    public synchronized State state() {
        int healthy = 0;
        int slots = 0;
        int inFlight = 0;
        boolean freeSlot = false;
        for (Replica r : replicas) {
            inFlight += r.inFlight();
            if (callable.test(r)) {
                healthy++;
                slots += slots(r);
                freeSlot |= freeSlot(r, 1);
            }
        }
        long wait = freeSlot && queue.size() == 0 ? 0 : estimateWaitNanos(queue.size() + 1);
        double perToken = decodeNanosPerTokenEwma;
        return new State(name, !zone.insideEdgeZone(), replicas.size(), healthy, slots, inFlight, queue.size(), queue.capacity(),
                wait / 1e6, ttftEwmaNanos / 1e6, perToken == 0 ? 0 : 1e9 / perToken, serviceEwmaNanos / 1e6,
                maxQueueWaitNanos / 1e6);
    }

    public String name() {
        return name;
    }

    /** Where the tier runs; what may be sent to it follows from this alone. */
    public Zone zone() {
        return zone;
    }

    /** Outside the edge zone (regional or external): confidential data never goes there, personal data is redacted. */
    public boolean external() {
        return !zone.insideEdgeZone();
    }

    public List<Replica> replicas() {
        return replicas;
    }

    public synchronized int queueLength() {
        return queue.size();
    }

    /** Mean time a completed request held its slot (EWMA, weight 0.1 per completion); 0 until one completed. */
    public double serviceTimeEwmaNanos() {
        return serviceEwmaNanos;
    }
}
