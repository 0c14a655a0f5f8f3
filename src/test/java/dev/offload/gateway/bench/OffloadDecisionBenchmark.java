package dev.offload.gateway.bench;

import dev.offload.gateway.offload.policy.DeviceTelemetry;
import dev.offload.gateway.offload.policy.DeviceTelemetry.LocalModel;
import dev.offload.gateway.offload.policy.DeviceTelemetry.Network;
import dev.offload.gateway.offload.policy.DeviceTelemetry.NetworkType;
import dev.offload.gateway.offload.policy.DeviceTelemetry.Thermal;
import dev.offload.gateway.offload.policy.GatewayView;
import dev.offload.gateway.offload.policy.OffloadHint;
import dev.offload.gateway.offload.policy.OffloadPolicy;
import dev.offload.gateway.offload.policy.Sensitivity;
import dev.offload.gateway.offload.policy.PolicySettings;
import dev.offload.gateway.offload.policy.GatewaySnapshot;
import dev.offload.gateway.offload.policy.LocalAdvisor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Cost of one offload decision in process (policy + complexity cues), over a rotating set of
 * realistic inputs; {@code decideWithLocalQuality} adds the local-quality router's estimate
 * (features + one dot product) from a precomputed embedding — the embedding itself is measured
 * apart ({@code exec:exec@embedding}). Sample-time mode, so JMH prints p50/p99/p99.9.
 * {@code ./mvnw -q test-compile exec:exec@jmh -Dbench.args="OffloadDecisionBenchmark"}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class OffloadDecisionBenchmark {
    private static final String[] QUERIES = {"what is the torque for the P-7 housing bolts",
            "compare the failover of pump A with pump B and then recommend one",
            "explain step by step how to reset the line 3 controller after an emergency stop",
            "status of line 3?",
            // a multiple-choice question, so the router's answer-option features do their work
            "Which of the following is the body cavity that contains the pituitary gland?\nA. Abdominal\nB. Cranial\n"
                    + "C. Pleural\nD. Spinal\nAnswer:"};

    private OffloadPolicy policy;
    private OffloadPolicy.Input[] inputs;
    private float[][] embeddings;
    private dev.offload.gateway.offload.policy.LocalQualityRouter router;
    private int next;
    private LocalAdvisor[] advisors;

    @Setup
    public void setUp() {
        // The device-policy package alone, with the gateway's defaults.
        policy = new OffloadPolicy(PolicySettings.defaults());
        Random rnd = new Random(42);
        router = dev.offload.gateway.offload.policy.LocalQualityRouter.bundled();
        // Random unit vectors stand in for MiniLM's: the dot product costs the same.
        embeddings = new float[QUERIES.length][384];
        for (float[] v : embeddings) {
            double norm = 0;
            for (int j = 0; j < v.length; j++) {
                v[j] = (float) rnd.nextGaussian();
                norm += v[j] * v[j];
            }
            for (int j = 0; j < v.length; j++) {
                v[j] /= (float) Math.sqrt(norm);
            }
        }
        inputs = new OffloadPolicy.Input[256];
        for (int i = 0; i < inputs.length; i++) {
            DeviceTelemetry d = new DeviceTelemetry(rnd.nextDouble(), rnd.nextDouble() * 0.5, 500 + rnd.nextInt(4000),
                    rnd.nextDouble() * 100, rnd.nextBoolean(), Thermal.values()[rnd.nextInt(4)],
                    new Network(NetworkType.values()[rnd.nextInt(4)], 10 + rnd.nextDouble() * 300,
                            500 + rnd.nextDouble() * 50_000, 200 + rnd.nextDouble() * 20_000),
                    new LocalModel("m", 5 + rnd.nextDouble() * 40, 2048 + rnd.nextInt(6000)));
            GatewayView g = new GatewayView(
                    new GatewayView.TierView(new dev.offload.gateway.offload.policy.TierState("edge", false, 2, 1 + rnd.nextInt(2), 16, rnd.nextInt(16),
                            rnd.nextInt(40), 256, rnd.nextDouble() * 3000, 100 + rnd.nextDouble() * 400,
                            20 + rnd.nextDouble() * 60, 2000), 8192, 10_000),
                    new GatewayView.TierView(new dev.offload.gateway.offload.policy.TierState("cloud", true, 1, 1, 32, 3, 0, 256, 0, 600, 70, 3000),
                            32768, 10_000), rnd.nextInt(20) == 0);
            inputs[i] = new OffloadPolicy.Input(d, QUERIES[i % QUERIES.length], rnd.nextInt(2000), 1000,
                    Sensitivity.values()[rnd.nextInt(3)], rnd.nextBoolean() ? null : 500L + rnd.nextInt(20_000), g);
        }
        setUpDevices();
    }

    private void setUpDevices() {
        // Sixteen gateway states as Watch would push them (the inputs' own views, not cached).
        advisors = new LocalAdvisor[16];
        for (int k = 0; k < advisors.length; k++) {
            GatewayView g = inputs[k].gateway();
            advisors[k] = new LocalAdvisor(router);
            advisors[k].accept(new GatewaySnapshot(1, k, 0, 60_000, g.edge(), g.cloud(),
                    new GatewaySnapshot.CacheState(true), PolicySettings.defaults()), 0);
        }
    }

    @Benchmark
    public OffloadHint decide() {
        OffloadPolicy.Input in = inputs[next++ & (inputs.length - 1)];
        return policy.decide(in);
    }

    @Benchmark
    public OffloadHint decideWithLocalQuality() {
        int i = next++ & (inputs.length - 1);
        OffloadPolicy.Input in = inputs[i];
        double q = router.estimate(in.query(), embeddings[i % QUERIES.length]);
        return policy.decide(new OffloadPolicy.Input(in.device(), in.query(), in.historyTokens(), in.contextTokens(),
                in.sensitivity(), in.latencyBudgetMs(), in.gateway(), q));
    }

    /**
     * The device's path: {@link LocalAdvisor#decide} over a held snapshot (as {@code Watch} pushes
     * it) with the question's embedding — the estimate, the input and the policy, nothing else.
     */
    @Benchmark
    public Optional<OffloadHint> deviceDecide() {
        int i = next++ & (inputs.length - 1);
        OffloadPolicy.Input in = inputs[i];
        LocalAdvisor a = advisors[i & (advisors.length - 1)];
        return a.decide(new LocalAdvisor.Question(in.device(), in.query(), embeddings[i % QUERIES.length],
                in.historyTokens(), in.sensitivity(), in.latencyBudgetMs()), 1);
    }
}
