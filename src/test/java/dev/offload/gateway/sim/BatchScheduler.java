package dev.offload.gateway.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Continuous-batching engine modelled on vLLM's scheduler, run by one dedicated thread.
 *
 * <p>Each loop iteration is one engine step: drop cancelled sequences, admit waiting ones in FIFO
 * order while there is a batch slot and KV room (prompt + target tokens of every running sequence
 * must fit in the capacity; a sequence alone is always admitted), then sleep for
 * {@code stepBase + stepPerSeq * running + prefillPerToken * (prompt tokens of the sequences
 * admitted in this step)} and give one token to every running sequence that was ready when the
 * step began. A finished sequence frees its slot for the next step. Consecutive steps follow a
 * fixed timeline: a late wake-up (loaded machine) shortens the next sleep, so the configured
 * throughput holds on average; beyond 100 ms of lag the timeline restarts from the present.
 *
 * <p>{@link #submit} and the gauges may be used from any thread; everything else is the
 * scheduler thread's.
 */
final class BatchScheduler {
    private static final long IDLE_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** How far behind its timeline the engine may fall and still catch up with shorter sleeps. */
    private static final long MAX_LAG_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final int maxBatch;
    private final long maxInSystem;
    private final long stepBaseNanos;
    private final long stepPerSeqNanos;
    private final long prefillPerTokenNanos;
    private final long kvCapacity;
    private final Thread thread;

    private final LinkedBlockingQueue<Sequence> inbox = new LinkedBlockingQueue<>();
    private final ArrayDeque<Sequence> waitingQueue = new ArrayDeque<>();
    private final List<Sequence> batch = new ArrayList<>();
    private long kvReserved;

    private final AtomicInteger inSystem = new AtomicInteger();
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger maxRunning = new AtomicInteger();
    private final AtomicInteger maxInSystemSeen = new AtomicInteger();
    private volatile long kvUsed;
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong generationTokens = new AtomicLong();
    private final AtomicLong successStop = new AtomicLong();
    private final AtomicLong successLength = new AtomicLong();
    private volatile boolean stopped;

    BatchScheduler(int maxBatch, int maxWaiting, long stepBaseNanos, long stepPerSeqNanos, long prefillPerTokenNanos,
                   long kvCapacity) {
        this.maxBatch = maxBatch;
        this.maxInSystem = (long) maxBatch + maxWaiting;
        this.stepBaseNanos = stepBaseNanos;
        this.stepPerSeqNanos = stepPerSeqNanos;
        this.prefillPerTokenNanos = prefillPerTokenNanos;
        this.kvCapacity = kvCapacity;
        this.thread = new Thread(this::run, "sim-backend-scheduler");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Stops the thread without calling any more listeners; waits for it to end. */
    void stop() throws InterruptedException {
        stopped = true;
        thread.interrupt();
        thread.join(TimeUnit.SECONDS.toMillis(5));
    }

    /**
     * Queues a sequence (any thread). Returns false, and does not queue it, when the batch plus the
     * waiting queue already hold {@code maxBatch + maxWaiting} sequences.
     */
    boolean submit(Sequence sequence) {
        int n = inSystem.incrementAndGet();
        if (n > maxInSystem) {
            inSystem.decrementAndGet();
            return false;
        }
        maxInSystemSeen.accumulateAndGet(n, Math::max);
        waiting.incrementAndGet();
        inbox.add(sequence);
        return true;
    }

    int running() {
        return running.get();
    }

    int waiting() {
        return waiting.get();
    }

    int maxRunning() {
        return maxRunning.get();
    }

    /** Largest number of sequences accepted at once (running plus waiting) since start or the last reset. */
    int maxInSystemSeen() {
        return maxInSystemSeen.get();
    }

    /** Forgets the maxima so far: they restart from the current batch size and the current number in the system. */
    void resetMaxRunning() {
        maxRunning.set(running.get());
        maxInSystemSeen.set(inSystem.get());
    }

    /** Prompt plus generated tokens of the running sequences over the capacity, at most 1. */
    double kvCacheUsage() {
        return Math.min(1.0, (double) kvUsed / kvCapacity);
    }

    long promptTokensTotal() {
        return promptTokens.get();
    }

    long generationTokensTotal() {
        return generationTokens.get();
    }

    long successTotal(boolean lengthLimited) {
        return lengthLimited ? successLength.get() : successStop.get();
    }

    private void run() {
        long previousStepEnd = 0;
        try {
            while (!stopped) {
                long now = System.nanoTime();
                // Back-to-back steps keep to a fixed timeline, so oversleeping on a loaded machine
                // does not slow the simulated model down (unless it falls too far behind).
                long stepStart = previousStepEnd != 0 && now - previousStepEnd < MAX_LAG_NANOS ? previousStepEnd : now;
                previousStepEnd = 0;
                drainInbox();
                dropCancelled();
                long prefillNanos = admit();
                if (batch.isEmpty()) {
                    awaitArrival(IDLE_POLL_NANOS);
                    continue;
                }
                long earliest = earliestReady();
                if (earliest > stepStart) {
                    // Only SLOW sequences, all sitting out (new ones are always ready): idle until
                    // one is ready or work arrives.
                    awaitArrival(earliest - stepStart);
                    continue;
                }
                long stepEnd = stepStart + stepBaseNanos + stepPerSeqNanos * batch.size() + prefillNanos;
                sleepUntil(stepEnd);
                if (stopped) {
                    return;
                }
                emit(stepStart, System.nanoTime());
                previousStepEnd = stepEnd;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void drainInbox() {
        inbox.drainTo(waitingQueue);
    }

    private void awaitArrival(long nanos) throws InterruptedException {
        Sequence arrived = inbox.poll(nanos, TimeUnit.NANOSECONDS);
        if (arrived != null) {
            waitingQueue.add(arrived);
        }
    }

    private static void sleepUntil(long deadline) throws InterruptedException {
        for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
            LockSupport.parkNanos(left);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    /** Frees cancelled sequences; the release is stamped after the flag was seen, never before the close. */
    private void dropCancelled() {
        for (Iterator<Sequence> it = waitingQueue.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.cancelled()) {
                it.remove();
                waiting.decrementAndGet();
                inSystem.decrementAndGet();
                s.listener.onReleased(System.nanoTime());
            }
        }
        boolean changed = false;
        for (Iterator<Sequence> it = batch.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.cancelled()) {
                it.remove();
                release(s);
                s.listener.onReleased(System.nanoTime());
                changed = true;
            }
        }
        if (changed) {
            publishBatch();
        }
    }

    /** Moves waiting sequences into free slots; returns the prefill time they add to this step. */
    private long admit() {
        long prefill = 0;
        boolean admitted = false;
        while (batch.size() < maxBatch && !waitingQueue.isEmpty()) {
            Sequence next = waitingQueue.peek();
            if (!batch.isEmpty() && kvReserved + next.kvReservation() > kvCapacity) {
                break;
            }
            waitingQueue.poll();
            waiting.decrementAndGet();
            if (next.firstTokenDelayNanos > 0) {
                next.readyAtNanos = System.nanoTime() + next.firstTokenDelayNanos;
            }
            batch.add(next);
            kvReserved += next.kvReservation();
            promptTokens.addAndGet(next.promptTokens);
            prefill += prefillPerTokenNanos * next.promptTokens;
            admitted = true;
        }
        if (admitted) {
            publishBatch();
            maxRunning.accumulateAndGet(batch.size(), Math::max);
        }
        return prefill;
    }

    private long earliestReady() {
        long earliest = Long.MAX_VALUE;
        for (Sequence s : batch) {
            earliest = Math.min(earliest, s.readyAtNanos);
        }
        return earliest;
    }

    /** End of a step: one token for every sequence that was ready when the step began. */
    private void emit(long stepStart, long now) {
        boolean changed = false;
        for (Iterator<Sequence> it = batch.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.cancelled()) {
                it.remove();
                release(s);
                s.listener.onReleased(System.nanoTime());
                changed = true;
                continue;
            }
            if (s.readyAtNanos > stepStart) {
                continue;
            }
            if (s.generated == s.resetAfter) {
                // The step that would have produced token resetAfter + 1 "crashes" instead.
                it.remove();
                release(s);
                s.listener.onReset();
                s.listener.onReleased(now);
                changed = true;
                continue;
            }
            int index = s.generated++;
            generationTokens.incrementAndGet();
            if (s.slowNanos > 0) {
                s.readyAtNanos = now + s.slowNanos;
            }
            boolean last = s.generated == s.targetTokens && s.generated != s.resetAfter;
            if (last) {
                it.remove();
                release(s);
                (s.lengthLimited ? successLength : successStop).incrementAndGet();
                s.listener.onToken(index, true);
                s.listener.onReleased(now);
                changed = true;
            } else {
                s.listener.onToken(index, false);
            }
        }
        if (changed) {
            publishBatch();
        } else {
            kvUsed = currentKvUsed();
        }
    }

    /**
     * Bookkeeping of a sequence just taken out of the batch, done before its listener hears of
     * it, so whoever sees the end of a response also sees the slot free in the gauges.
     */
    private void release(Sequence s) {
        kvReserved -= s.kvReservation();
        inSystem.decrementAndGet();
        running.set(batch.size());
    }

    private void publishBatch() {
        running.set(batch.size());
        kvUsed = currentKvUsed();
    }

    private long currentKvUsed() {
        long used = 0;
        for (Sequence s : batch) {
            used += s.promptTokens + s.generated;
        }
        return used;
    }
}
