package dev.offload.gateway.bench.fleet;

import dev.offload.gateway.bench.GatewayLauncher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Every option of the {@link FleetDriver}, validated at once: an unknown option or a bad value
 * fails before anything starts. Defaults are those of benchmark 5 (fleet replay); the full list
 * with meanings is in {@code src/site/markdown/fleet.md}. Immutable; any thread.
 */
final class FleetOptions {
    static final String DEFAULT_PARAPHRASES = "../shared/data/cache/gptcache-paraphrase-pairs.json";
    static final String DEFAULT_QUESTIONS = "../shared/data/routing/routellm-mmlu.csv";

    /**
     * A class of devices: its local model's decode speed, its share of the fleet, and the power
     * its SoC draws while the model runs.
     */
    record DeviceClass(double tokensPerSec, double share, double watts) {
        String label() {
            return (tokensPerSec == Math.rint(tokensPerSec) ? Long.toString((long) tokensPerSec) : Double.toString(tokensPerSec))
                    + " tok/s";
        }
    }

    // target
    final String url;
    /** The gateway's management interface (/q/metrics) for --url; default: its host, port 9090. */
    final String managementUrl;
    /** The gateway's gRPC port (with {@code --url}; a started gateway gets a free one). */
    final int grpcPort;
    final boolean start;
    final String transport;
    final String apiKey;
    // run shape
    final List<Policy> policies;
    final int repeats;
    final long seed;
    final Path out;
    final double drainS;
    final double requestTimeoutS;
    final int warmupQueries;
    final double metricsIntervalS;
    final double bucketS;
    // fleet and workload
    final int devices;
    final double baseLoad;
    final Double rate;
    final Scenario scenario;
    final double staggerS;
    final double[] kindMix;
    final int[] outputTokens;
    final long[] budgetsMs;
    final double historyShare;
    final double repeatShare;
    final double paraphraseShare;
    final double zipf;
    final Map<String, Double> sensitivityMix;
    final Path paraphrases;
    final int paraphrasePairs;
    /** MMLU questions with quality labels; null: the corpus questions (no labels). */
    final Path questionsFile;
    final int questions;
    // devices
    final List<DeviceClass> deviceMix;
    /** The quality-router-only policy's threshold on {@code estimates.localQuality}. */
    final double minLocalQuality;
    // cost model
    final double gpuTokensPerSecond;
    final double gpuPrefillTokensPerSecond;
    final double gpuPricePerHour;
    final double cloudPricePerMillion;
    final double localTps;
    final double localPrefillTps;
    final int localContextTokens;
    final double chargingShare;
    // --start: simulated backend and gateway child
    final int maxBatch;
    final double stepMs;
    final double stepPerSeqMs;
    final double prefillUsPerToken;
    final int backendOutputTokens;
    final String gatewayJar;
    final String java;
    final String gatewayJvmOpts;
    final Map<String, String> gatewayProps;

    private final Map<String, String> raw;
    private final Set<String> used = new HashSet<>();

    FleetOptions(Map<String, String> a) {
        raw = a;
        url = str("url", null);
        managementUrl = str("management-url", null);
        start = flag("start");
        if ((url == null) == !start) {
            throw new IllegalArgumentException("give exactly one of --url <gateway base URL> and --start");
        }
        grpcPort = positive("grpc-port", 9000);
        transport = str("transport", "sse").toLowerCase(Locale.ROOT);
        if (!List.of("json", "sse", "grpc").contains(transport)) {
            throw new IllegalArgumentException("--transport must be json, sse or grpc");
        }
        apiKey = str("api-key", null);
        List<Policy> ps = new ArrayList<>();
        for (String p : str("policies", "hints,offload,local").split(",")) {
            if (!p.isBlank()) {
                ps.add(Policy.parse(p));
            }
        }
        if (ps.isEmpty()) {
            throw new IllegalArgumentException("--policies needs at least one of hints, offload, local");
        }
        policies = List.copyOf(ps);
        repeats = positive("repeats", 1);
        seed = Long.parseLong(str("seed", "42"));
        out = Path.of(str("out", "target/fleet-" + System.currentTimeMillis()));
        drainS = nonNegative("drain-s", 30);
        requestTimeoutS = positiveNumber("request-timeout-s", 60);
        warmupQueries = (int) nonNegative("warmup-queries", 20);
        metricsIntervalS = positiveNumber("metrics-interval-s", 1);
        bucketS = positiveNumber("bucket-s", 5);

        devices = positive("devices", 400);
        baseLoad = positiveNumber("base-load", 0.5);
        rate = raw.containsKey("rate") ? positiveNumber("rate", 1) : null;
        scenario = Scenario.parse(str("timeline", "wifi:30,wifi:30:3,lte:30,3g:30,offline:20"), str("bursts", "95:5:3"));
        staggerS = nonNegative("stagger-s", 5);
        kindMix = fractions("kind-mix", "0.6,0.25,0.15", 3);
        outputTokens = Arrays.stream(numbers("output-tokens", "64,256,160", 3)).mapToInt(d -> (int) d).toArray();
        budgetsMs = Arrays.stream(numbers("budgets-ms", "6000,15000,10000", 3)).mapToLong(d -> (long) d).toArray();
        for (int i = 0; i < 3; i++) {
            if (outputTokens[i] < 1 || budgetsMs[i] < 1) {
                throw new IllegalArgumentException("--output-tokens and --budgets-ms must be positive");
            }
        }
        historyShare = fraction("history-share", 0.3);
        repeatShare = fraction("repeat-share", 0.1);
        paraphraseShare = fraction("paraphrase-share", 0.15);
        if (repeatShare + paraphraseShare > 1) {
            throw new IllegalArgumentException("--repeat-share + --paraphrase-share must be at most 1");
        }
        zipf = nonNegative("zipf", 1.1);
        sensitivityMix = mix(str("sensitivity-mix", "public:0.4,internal:0.4,confidential:0.15,restricted:0.05"));
        String pp = str("paraphrases", null);
        if (pp == null) {
            Path dflt = Path.of(DEFAULT_PARAPHRASES);
            paraphrases = Files.isReadable(dflt) ? dflt : null;
        } else if (pp.equals("none")) {
            paraphrases = null;
        } else {
            paraphrases = Path.of(pp);
            if (!Files.isReadable(paraphrases)) {
                throw new IllegalArgumentException("--paraphrases: cannot read " + pp);
            }
        }
        paraphrasePairs = (int) nonNegative("paraphrase-pairs", 200);
        String qf = str("questions-file", null);
        if (qf == null) {
            Path dflt = Path.of(DEFAULT_QUESTIONS);
            questionsFile = Files.isReadable(dflt) ? dflt : null;
        } else if (qf.equals("none")) {
            questionsFile = null;
        } else {
            questionsFile = Path.of(qf);
            if (!Files.isReadable(questionsFile)) {
                throw new IllegalArgumentException("--questions-file: cannot read " + qf);
            }
        }
        questions = positive("questions", 300);

        boolean explicitTps = raw.containsKey("local-tps");
        localTps = positiveNumber("local-tps", 25);
        deviceMix = deviceMix(str("device-mix", explicitTps ? localTps + ":1:5" : "25:0.7:5,60:0.3:3"));
        minLocalQuality = fraction("min-local-quality", 0.78);
        localPrefillTps = positiveNumber("local-prefill-tps", 400);
        localContextTokens = (int) nonNegative("local-context-tokens", 300);
        chargingShare = fraction("charging-share", 0.3);

        maxBatch = positive("max-batch", 16);
        stepMs = nonNegative("step-ms", 8);
        stepPerSeqMs = nonNegative("step-per-seq-ms", 0.5);
        prefillUsPerToken = nonNegative("prefill-us-per-token", 20);
        backendOutputTokens = positive("backend-output-tokens", 512);
        gatewayJar = str("gateway-jar", "target/quarkus-app/quarkus-run.jar");
        java = str("java", GatewayLauncher.currentJava());
        gatewayJvmOpts = str("gateway-jvm-opts", "");
        gatewayProps = props(str("gateway-props", ""));
        // The capacity model's service rates of one replica at full batch (capacity.md): R = b / step(b).
        gpuTokensPerSecond = positiveNumber("gpu-tokens-per-second",
                maxBatch / ((stepMs + stepPerSeqMs * maxBatch) / 1000));
        gpuPrefillTokensPerSecond = positiveNumber("gpu-prefill-tokens-per-second",
                prefillUsPerToken > 0 ? 1e6 / prefillUsPerToken : 1e9);
        gpuPricePerHour = nonNegative("gpu-price-per-hour", 2.40);
        cloudPricePerMillion = nonNegative("cloud-price-per-million", 0.50);
        if (policies.contains(Policy.ORACLE) && !policies.contains(Policy.OFFLOAD)) {
            throw new IllegalArgumentException("--policies: the oracle needs offload in the same run (it reads each"
                    + " query's true remote outcome from the always-offload run of its repetition)");
        }

        Set<String> unknown = new HashSet<>(raw.keySet());
        unknown.removeAll(used);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown option(s): --" + String.join(", --", unknown));
        }
    }

    /** Mean output tokens per query over the kind mix. */
    double meanOutputTokens() {
        double m = 0;
        for (int i = 0; i < 3; i++) {
            m += kindMix[i] * outputTokens[i];
        }
        return m;
    }

    /**
     * Requests per second the simulated backend sustains at full batch for this workload's mean
     * answer length: in steady state a decode step takes base + per-sequence × B (prefill is
     * neglected: prompts here are a few hundred tokens at microseconds per token), and each
     * request needs its answer's tokens in steps.
     */
    double backendCapacity() {
        double stepS = (stepMs + stepPerSeqMs * maxBatch) / 1000;
        return maxBatch / (meanOutputTokens() * stepS);
    }

    /** Fleet-wide arrivals per second at load factor 1. */
    double fleetRate() {
        return rate != null ? rate : baseLoad * backendCapacity();
    }

    /** The options as given, for the report. */
    String given() {
        StringBuilder sb = new StringBuilder();
        new LinkedHashMap<>(raw).forEach((k, v) -> sb.append(sb.length() == 0 ? "" : " ").append("--").append(k)
                .append(v.equals("true") ? "" : " " + v));
        return sb.toString();
    }

    // ---------------------------------------------------------------- parsing

    private String str(String name, String dflt) {
        used.add(name);
        return raw.getOrDefault(name, dflt);
    }

    private boolean flag(String name) {
        used.add(name);
        return Boolean.parseBoolean(raw.getOrDefault(name, "false"));
    }

    private double number(String name, double dflt) {
        String v = str(name, null);
        try {
            return v == null ? dflt : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a number: " + v);
        }
    }

    private int positive(String name, int dflt) {
        double v = number(name, dflt);
        if (v < 1 || v != Math.rint(v)) {
            throw new IllegalArgumentException("--" + name + " must be a positive integer");
        }
        return (int) v;
    }

    private double positiveNumber(String name, double dflt) {
        double v = number(name, dflt);
        if (!(v > 0)) {
            throw new IllegalArgumentException("--" + name + " must be > 0");
        }
        return v;
    }

    private double nonNegative(String name, double dflt) {
        double v = number(name, dflt);
        if (!(v >= 0)) {
            throw new IllegalArgumentException("--" + name + " must be >= 0");
        }
        return v;
    }

    private double fraction(String name, double dflt) {
        double v = number(name, dflt);
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException("--" + name + " must be between 0 and 1");
        }
        return v;
    }

    private double[] numbers(String name, String dflt, int count) {
        String v = str(name, dflt);
        double[] out;
        try {
            out = Arrays.stream(v.split(",")).map(String::strip).mapToDouble(Double::parseDouble).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be " + count + " numbers separated by commas");
        }
        if (out.length != count) {
            throw new IllegalArgumentException("--" + name + " must be " + count + " numbers separated by commas"
                    + " (short, long, multi-hop)");
        }
        return out;
    }

    private double[] fractions(String name, String dflt, int count) {
        double[] v = numbers(name, dflt, count);
        double sum = Arrays.stream(v).sum();
        if (Arrays.stream(v).anyMatch(x -> x < 0) || !(sum > 0)) {
            throw new IllegalArgumentException("--" + name + " must be non-negative weights with a positive sum");
        }
        return Arrays.stream(v).map(x -> x / sum).toArray();
    }

    private static Map<String, Double> mix(String spec) {
        Map<String, Double> out = new LinkedHashMap<>();
        double sum = 0;
        for (String e : spec.split(",")) {
            String[] f = e.strip().split(":");
            if (f.length != 2 || !List.of("public", "internal", "confidential", "restricted").contains(f[0])) {
                throw new IllegalArgumentException("--sensitivity-mix entries must be level:weight with level public,"
                        + " internal, confidential or restricted: " + e);
            }
            double w = Double.parseDouble(f[1]);
            if (w < 0) {
                throw new IllegalArgumentException("--sensitivity-mix weights must be >= 0");
            }
            out.put(f[0], w);
            sum += w;
        }
        if (!(sum > 0)) {
            throw new IllegalArgumentException("--sensitivity-mix needs a positive weight");
        }
        double total = sum;
        out.replaceAll((k, w) -> w / total);
        return out;
    }

    /** {@code tps:share[:watts]} entries, comma-separated; shares normalised. */
    private static List<DeviceClass> deviceMix(String spec) {
        List<DeviceClass> out = new ArrayList<>();
        double sum = 0;
        for (String e : spec.split(",")) {
            if (e.isBlank()) {
                continue;
            }
            String[] f = e.strip().split(":");
            if (f.length < 2 || f.length > 3) {
                throw new IllegalArgumentException("--device-mix entries are tokensPerSec:share[:watts]: " + e);
            }
            double tps = Double.parseDouble(f[0]);
            double share = Double.parseDouble(f[1]);
            double watts = f.length == 3 ? Double.parseDouble(f[2]) : 4;
            if (!(tps > 0) || share < 0 || watts < 0) {
                throw new IllegalArgumentException("--device-mix needs tokensPerSec > 0, share >= 0, watts >= 0: " + e);
            }
            out.add(new DeviceClass(tps, share, watts));
            sum += share;
        }
        if (!(sum > 0)) {
            throw new IllegalArgumentException("--device-mix needs a positive share");
        }
        double total = sum;
        return out.stream().map(c -> new DeviceClass(c.tokensPerSec(), c.share() / total, c.watts())).toList();
    }

    /** The device class of device {@code d} (a seeded draw by the mix's shares). */
    DeviceClass deviceClass(long seed, int d) {
        double u = new java.util.Random(Seeds.mix(seed, 7, d)).nextDouble();
        for (DeviceClass c : deviceMix) {
            u -= c.share();
            if (u < 0) {
                return c;
            }
        }
        return deviceMix.get(deviceMix.size() - 1);
    }

    /** The slowest class's speed: prefill speeds scale from it ({@code --local-prefill-tps} is for that class). */
    double baseTps() {
        return deviceMix.stream().mapToDouble(DeviceClass::tokensPerSec).min().orElse(localTps);
    }

    private static Map<String, String> props(String spec) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String e : spec.split(";")) {
            if (e.isBlank()) {
                continue;
            }
            int eq = e.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("--gateway-props must be key=value;key=value: " + e);
            }
            out.put(e.substring(0, eq).strip(), e.substring(eq + 1).strip());
        }
        return out;
    }
}
