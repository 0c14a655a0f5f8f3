package dev.offload.gateway.abuse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * One abusive tenant doing everything at once for a while: slowloris on headers and bodies,
 * oversized bodies, streams it never reads, HTTP/2 PING floods. {@link #start} launches them,
 * {@link #stop} waits for each to end and returns what the server did to it (every outcome
 * should be bounded: an answer, a closed connection or GOAWAY).
 */
public final class Abusers {
    private final String host;
    private final int port;
    private final int grpcPort;
    private final String key;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "abuser");
        t.setDaemon(true);
        return t;
    });
    private final List<Future<List<Object>>> running = new ArrayList<>();
    private volatile boolean stopping;
    private volatile long pauseMillis;

    /** How hard to abuse: counts of each kind running side by side. */
    public record Mix(int trickledBodies, int trickledHeaders, int oversized, int neverRead, int pingFloods,
                      boolean pureReadingPingFlood) {
        public static Mix standard() {
            return new Mix(4, 4, 2, 8, 2, false);
        }
    }

    /** @param port the REST port; @param grpcPort the gRPC port, where the PING floods go */
    public Abusers(String host, int port, int grpcPort, String key) {
        this.host = host;
        this.port = port;
        this.grpcPort = grpcPort;
        this.key = key;
    }

    private void repeat(int copies, Step step) {
        for (int i = 0; i < copies; i++) {
            running.add(pool.submit(() -> {
                List<Object> outcomes = new ArrayList<>();
                while (!stopping) {
                    outcomes.add(step.run());
                    if (pauseMillis > 0 && !stopping) {
                        Thread.sleep(pauseMillis);
                    }
                }
                return outcomes;
            }));
        }
    }

    /**
     * Each abuser rests this long between two abuses. 0 (the default): back to back, as fast as
     * this machine can send, which on a shared 2-core machine mostly measures the abusers' own CPU.
     */
    public Abusers pacedBy(Duration pause) {
        this.pauseMillis = pause.toMillis();
        return this;
    }

    private interface Step {
        Object run() throws Exception;
    }

    /**
     * Starts the mix; each abuser repeats its abuse until {@link #stop}.
     *
     * @param bodyGiveUp    how long a body trickler keeps trickling if the server does not cut it off
     * @param headerTrickle how long a header trickler trickles before it stalls
     * @param stallWait     how long a stalled header trickler, and a client that never read its stream, wait for the server to close
     */
    public void start(Mix mix, Duration bodyGiveUp, Duration headerTrickle, Duration stallWait) {
        String query = "{\"query\":\"what happens to restricted data\",\"k\":3}";
        repeat(mix.trickledBodies(), () -> Http1Abuse.trickledBody(host, port, key, "/v1/query", 4096,
                Duration.ofMillis(100), bodyGiveUp));
        repeat(mix.trickledHeaders(), () -> Http1Abuse.trickledHeadersThenStall(host, port, Duration.ofMillis(100),
                headerTrickle, stallWait));
        repeat(mix.oversized(), () -> {
            List<Object> o = new ArrayList<>();
            o.add(Http1Abuse.oversizedDeclared(host, port, key, "/v1/documents", 1L << 30));
            o.add(Http1Abuse.oversizedSent(host, port, key, "/v1/query", 2 * 1024 * 1024, true));
            o.add(Http1Abuse.oversizedSent(host, port, key, "/v1/chat/completions", 5 * 1024 * 1024, false));
            return o;
        });
        repeat(mix.neverRead(), () -> {
            try (Http1Abuse.StalledReader r = Http1Abuse.streamNeverRead(host, port, key, "/v1/chat/completions",
                    "{\"model\":\"auto\",\"stream\":true,\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"never read\"}]}")) {
                Thread.sleep(1500);
                return r.finish(stallWait);
            }
        });
        repeat(mix.pingFloods(), () -> Http2PingFlood.run(host, grpcPort, key, true, Duration.ofSeconds(3)));
        if (mix.pureReadingPingFlood()) {
            repeat(1, () -> Http2PingFlood.run(host, grpcPort, null, true, Duration.ofSeconds(3)));
        }
    }

    /** Stops every abuser after its current abuse and returns all outcomes (nested lists flattened). */
    public List<Object> stop(Duration wait) throws Exception {
        stopping = true;
        List<Object> all = Collections.synchronizedList(new ArrayList<>());
        for (Future<List<Object>> f : running) {
            for (Object o : f.get(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                if (o instanceof List<?> l) {
                    all.addAll(l);
                } else {
                    all.add(o);
                }
            }
        }
        running.clear();
        stopping = false;
        return all;
    }

    public void close() {
        pool.shutdownNow();
    }
}
