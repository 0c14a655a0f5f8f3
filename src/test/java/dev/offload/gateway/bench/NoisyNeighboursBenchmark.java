package dev.offload.gateway.bench;

import dev.offload.gateway.abuse.Abusers;
import dev.offload.gateway.abuse.VictimLoad;
import dev.offload.gateway.security.KeyRing;
import dev.offload.gateway.sim.SimulatedBackend;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Noisy neighbours (issue 9, item 10), the precise figure: one tenant's p99 with and without
 * another tenant's abuse (slowloris headers and bodies, oversized bodies, unread streams, HTTP/2
 * PING floods on the gRPC port), in interleaved rounds against a packaged gateway on its production settings,
 * with three simulated backends on loopback. The figure is the median over rounds of
 * p99(with abuse) / p99(without). {@code --pure-ping-flood} adds a third round kind with an
 * extra flood of PINGs from a connection that never makes a gRPC call (bounded by the gRPC
 * server's keep-alive policy; see reliability.md).
 *
 * <pre>
 * ./mvnw -q -B package -DskipTests exec:exec@noisy -Dbench.args="--rounds 7 --round-s 10"
 * </pre>
 * Options: {@code --rounds} (7), {@code --round-s} (10), {@code --victims} (4 closed-loop
 * clients), {@code --body-timeout} (5s: the gateway's request-body timeout, shortened from 30 s
 * so trickling abusers end between rounds), {@code --pure-ping-flood}, {@code --gateway-jar},
 * {@code --gateway-jvm-opts}, {@code --java}, {@code --work-dir}, {@code --abuse-pause-ms} (0: each abuser
 * repeats back to back; on a shared 2-core machine the abusers' own CPU then competes with the
 * victim's client and the gateway alike, so the figure is reported both ways).
 */
public final class NoisyNeighboursBenchmark {
    private static final String VICTIM = "noisy-victim-" + java.util.UUID.randomUUID();
    private static final String ABUSER = "noisy-abuser-" + java.util.UUID.randomUUID();

    private NoisyNeighboursBenchmark() {
    }

    private static SimulatedBackend backend() {
        return SimulatedBackend.builder().maxBatchSize(8).stepBase(Duration.ofMillis(4)).stepPerSequence(Duration.ofMillis(1))
                .prefillPerToken(Duration.ofNanos(20_000)).outputTokens(64).recordLimit(0).start();
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = Args.parse(argv);
        int rounds = Integer.parseInt(a.getOrDefault("rounds", "7"));
        Duration round = Duration.ofSeconds(Long.parseLong(a.getOrDefault("round-s", "10")));
        int victims = Integer.parseInt(a.getOrDefault("victims", "4"));
        String bodyTimeout = a.getOrDefault("body-timeout", "5s");
        boolean pureFlood = a.containsKey("pure-ping-flood");
        Duration pause = Duration.ofMillis(Long.parseLong(a.getOrDefault("abuse-pause-ms", "0")));
        Path work = a.containsKey("work-dir") ? Path.of(a.get("work-dir")) : Files.createTempDirectory("noisy-bench-");
        System.out.println("noisy neighbours: " + Hardware.describe() + ", load " + Hardware.loadAverage());

        SimulatedBackend edgeA = backend();
        SimulatedBackend edgeB = backend();
        SimulatedBackend cloud = backend();
        Path keys = Files.writeString(work.resolve("noisy-keys"), KeyRing.sha256Hex(VICTIM) + " victim device\n"
                + KeyRing.sha256Hex(ABUSER) + " abuser device\n");
        Map<String, String> props = new LinkedHashMap<>();
        props.put("gateway.auth.keys-file", keys.toString());
        props.put("gateway.tiers.edge.base-urls", edgeA.baseUrl() + "/v1," + edgeB.baseUrl() + "/v1");
        props.put("gateway.tiers.edge.max-concurrency", "4");
        props.put("gateway.tiers.edge.initial-concurrency", "4");
        props.put("gateway.tiers.cloud.base-urls", cloud.baseUrl() + "/v1");
        props.put("gateway.limits.request-body-timeout", bodyTimeout);
        int port = ChildProcess.freePort();
        int grpcPort = ChildProcess.freePort();
        props.put("quarkus.grpc.server.port", Integer.toString(grpcPort));
        String host = "127.0.0.1";
        try (ChildProcess gateway = GatewayLauncher.start(a.getOrDefault("java", GatewayLauncher.currentJava()),
                Path.of(a.getOrDefault("gateway-jar", "target/quarkus-app/quarkus-run.jar")),
                a.getOrDefault("gateway-jvm-opts", ""), port, work, "noisy", props);
             VictimLoad victim = new VictimLoad(host, port, VICTIM, victims)) {
            Duration stall = Duration.ofSeconds(1);
            Duration giveUp = Duration.ofSeconds(60);
            victim.round(round); // warm-up: JIT, pools, the cache
            List<double[]> rows = new ArrayList<>();
            long abuses = 0;
            long abusedSeconds = 0;
            Map<String, Long> unbounded = new java.util.TreeMap<>();
            for (int r = 0; r < rounds; r++) {
                VictimLoad.Round quiet = victim.round(round);
                Abusers abusers = new Abusers(host, port, grpcPort, ABUSER).pacedBy(pause);
                abusers.start(Abusers.Mix.standard(), giveUp, round, stall);
                VictimLoad.Round abused = victim.round(round);
                List<Object> outcomes = abusers.stop(Duration.ofSeconds(120));
                abusers.close();
                abuses += outcomes.size();
                abusedSeconds += round.toSeconds();
                outcomes.stream().filter(o -> !bounded(o)).forEach(o -> unbounded.merge(kind(o), 1L, Long::sum));
                double[] row = {quiet.p50Millis(), quiet.p99Millis(), abused.p50Millis(), abused.p99Millis(), Double.NaN, Double.NaN,
                        quiet.requests() - quiet.ok() + abused.requests() - abused.ok()};
                if (pureFlood) {
                    Abusers flood = new Abusers(host, port, grpcPort, ABUSER).pacedBy(pause);
                    flood.start(new Abusers.Mix(4, 4, 2, 8, 2, true), giveUp, round, stall);
                    VictimLoad.Round flooded = victim.round(round);
                    flood.stop(Duration.ofSeconds(120));
                    flood.close();
                    row[4] = flooded.p50Millis();
                    row[5] = flooded.p99Millis();
                    row[6] += flooded.requests() - flooded.ok();
                }
                rows.add(row);
                System.out.printf("round %d: victim p50/p99 quiet %.1f/%.1f ms (%d), abused %.1f/%.1f ms (%d)%s; not 200: %.0f%n", r,
                        row[0], row[1], quiet.requests(), row[2], row[3], abused.requests(),
                        pureFlood ? String.format(", with a pure PING flood %.1f/%.1f ms", row[4], row[5]) : "", row[6]);
            }
            double p99Ratio = median(rows.stream().mapToDouble(x -> x[3] / x[1]).toArray());
            double p50Ratio = median(rows.stream().mapToDouble(x -> x[2] / x[0]).toArray());
            System.out.printf("%nvictim p99 with abuse / without, median of %d interleaved rounds: %.3f (p50: %.3f)%n", rounds,
                    p99Ratio, p50Ratio);
            if (pureFlood) {
                System.out.printf("with a pure PING flood added: p99 ratio %.3f, p50 ratio %.3f%n",
                        median(rows.stream().mapToDouble(x -> x[5] / x[1]).toArray()),
                        median(rows.stream().mapToDouble(x -> x[4] / x[0]).toArray()));
            }
            System.out.printf("abuses per second of abused round: %.0f (pause between abuses %d ms)%n",
                    abuses / (double) Math.max(1, abusedSeconds), pause.toMillis());
            System.out.printf("victim requests not answered 200: %.0f; abuses %d, not ended by the gateway within the abuser's patience %s; load after: %s%n",
                    rows.stream().mapToDouble(x -> x[6]).sum(), abuses, unbounded, Hardware.loadAverage());
        } finally {
            edgeA.close();
            edgeB.close();
            cloud.close();
        }
    }

    private static boolean bounded(Object o) {
        if (o instanceof dev.offload.gateway.abuse.Http1Abuse.Outcome h) {
            return h.bounded();
        }
        return o instanceof dev.offload.gateway.abuse.Http2PingFlood.Outcome p && p.bounded();
    }

    private static String kind(Object o) {
        if (o instanceof dev.offload.gateway.abuse.Http1Abuse.Outcome h) {
            return h.kind();
        }
        return o instanceof dev.offload.gateway.abuse.Http2PingFlood.Outcome p ? p.kind() : o.toString();
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
