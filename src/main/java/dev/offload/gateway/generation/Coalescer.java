package dev.offload.gateway.generation;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.MultiEmitter;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Request coalescing (single flight): concurrent identical requests — equal keys — share one
 * upstream call. The first caller's call is started; callers that arrive while it runs join it
 * and get every item from the beginning (replayed); the call is cancelled only when every
 * caller has left, and its entry leaves the map when it ends or when its last caller leaves.
 *
 * <p>Thread-safe; {@link #join} may be called from any thread.
 *
 * @param <E> the items of a call
 */
final class Coalescer<E> {
    /** One upstream call: started once, with the emitter its items go to; cancellable. */
    interface Call<E> {
        void start(MultiEmitter<? super E> emitter);

        void cancel();
    }

    private final Map<String, Shared> inFlight = new ConcurrentHashMap<>();
    private final Runnable onJoined;

    /** @param onJoined called each time a caller joins a call already in flight (a metric) */
    Coalescer(Runnable onJoined) {
        this.onJoined = onJoined;
    }

    /** The stream of the call for {@code key}: the one in flight, or a new one from {@code newCall}. */
    Multi<E> join(String key, Supplier<Call<E>> newCall) {
        return join(key, newCall, java.util.function.UnaryOperator.identity());
    }

    /**
     * As {@link #join(String, Supplier)}; a caller that joins a call in flight gets its stream
     * through {@code asJoiner} (the first caller's stream is left as it is).
     */
    Multi<E> join(String key, Supplier<Call<E>> newCall, java.util.function.UnaryOperator<Multi<E>> asJoiner) {
        while (true) {
            Shared existing = inFlight.get(key);
            if (existing != null) {
                Multi<E> joined = existing.join();
                if (joined != null) {
                    onJoined.run();
                    return asJoiner.apply(joined);
                }
                inFlight.remove(key, existing);
                continue;
            }
            Shared created = new Shared(key, newCall);
            if (inFlight.putIfAbsent(key, created) == null) {
                return created.join();
            }
        }
    }

    /** Calls in flight; 0 when none. */
    int inFlight() {
        return inFlight.size();
    }

    /** One upstream call and the callers sharing it. */
    private final class Shared {
        private final String key;
        private final Multi<E> replay;
        private final AtomicInteger subscribers = new AtomicInteger();
        private boolean closed;
        private volatile Call<E> call;

        Shared(String key, Supplier<Call<E>> newCall) {
            this.key = key;
            Multi<E> source = Multi.createFrom().<E>emitter(em -> {
                Call<E> c = newCall.get();
                call = c;
                c.start(em);
            }).onTermination().invoke(() -> {
                synchronized (this) {
                    closed = true;
                }
                inFlight.remove(key, this);
            });
            this.replay = Multi.createBy().replaying().ofMulti(source);
        }

        /** A caller's view, or null when the call already ended or was abandoned. */
        Multi<E> join() {
            synchronized (this) {
                if (closed) {
                    return null;
                }
                subscribers.incrementAndGet();
            }
            return replay.onTermination().invoke((failure, cancelled) -> {
                boolean last;
                synchronized (this) {
                    last = subscribers.decrementAndGet() == 0;
                    if (last) {
                        closed = true;
                    }
                }
                if (last) {
                    // The replay keeps its upstream when its subscribers cancel, so the source's
                    // own termination never comes after a cancelled call: leave the map here,
                    // or the entry (and the call's backend request and connection) stays.
                    inFlight.remove(key, this);
                    Call<E> c = call;
                    if (cancelled && c != null) {
                        c.cancel();
                    }
                }
            });
        }
    }
}
