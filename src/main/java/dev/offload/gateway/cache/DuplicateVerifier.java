package dev.offload.gateway.cache;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;

/**
 * The check a semantic hit must pass: the probability that a cached question and the asked one
 * are duplicates (the same question, so the same answer), from a logistic model over
 * {@link PairFeatures}. The semantic cache asks it about the candidate it would answer with; a
 * probability under {@link #threshold()} — or one that cannot be computed — is a miss, never a
 * hit. This is the design of vLLM semantic-router's verifier and the fix GPTCache #694 asks for
 * ("turn on" must not hit "turn off"): a nearest neighbour is a suggestion, the verifier decides.
 *
 * <p>Trained off line by {@code bench.VerifierTraining} with Tribuo's linear SGD (log loss) on
 * the GPTCache paraphrase pairs, hard negatives mined from them (each paraphrase against its
 * nearest other questions) and mechanically made opposites; the feature standardisation is folded
 * into the weights, so a check is one dot product of {@link PairFeatures#count()} numbers once
 * the features are known. The threshold ships with the weights (chosen on the training half). A
 * model may weigh a subset of {@link PairFeatures#NAMES}; one that weighs {@code second_cosine}
 * names its embedding model ({@link #secondModel()}), and without that cosine its checks are NaN.
 *
 * <p>Immutable; any thread.
 */
public final class DuplicateVerifier {
    /** Classpath resource the gateway ships (written by {@code ./mvnw -q test-compile exec:exec@verifier}). */
    public static final String RESOURCE = "/dev/offload/gateway/cache/duplicate-verifier.properties";
    public static final String FORMAT = "duplicate-verifier/1";

    /** Positions in {@link PairFeatures#NAMES} of the features this model weighs, ascending. */
    private final int[] used;
    private final double[] weights;
    private final double bias;
    private final double threshold;
    /** The embedding model whose cosine is {@code second_cosine}; null when the model does not use it. */
    private final String secondModel;

    /** A model over the {@link PairFeatures#TEXT_FEATURES} text features (no second embedding). */
    public DuplicateVerifier(double[] weights, double bias, double threshold) {
        this(textFeatures(), weights, bias, threshold, null);
    }

    /**
     * @param features    the {@link PairFeatures#NAMES} it weighs, in that order
     * @param secondModel the embedding model of {@code second_cosine}; required when it is among the features
     */
    public DuplicateVerifier(String[] features, double[] weights, double bias, double threshold, String secondModel) {
        if (weights.length != features.length) {
            throw new IllegalArgumentException("expected " + features.length + " weights, got " + weights.length);
        }
        this.used = new int[features.length];
        int last = -1;
        for (int i = 0; i < features.length; i++) {
            int at = Arrays.asList(PairFeatures.NAMES).indexOf(features[i]);
            if (at <= last) {
                throw new IllegalArgumentException("unknown or out-of-order feature " + features[i] + "; this gateway's: "
                        + String.join(",", PairFeatures.NAMES));
            }
            used[i] = last = at;
        }
        boolean second = Arrays.stream(used).anyMatch(u -> u == PairFeatures.SECOND_COSINE);
        if (second != (secondModel != null)) {
            throw new IllegalArgumentException("second_cosine needs its embedding model, and the model needs second_cosine");
        }
        for (double w : weights) {
            if (!Double.isFinite(w)) {
                throw new IllegalArgumentException("weights must be finite");
            }
        }
        if (!Double.isFinite(bias)) {
            throw new IllegalArgumentException("bias must be finite");
        }
        if (!(threshold >= 0 && threshold <= 1)) {
            throw new IllegalArgumentException("threshold must be in [0, 1]: " + threshold);
        }
        this.weights = weights.clone();
        this.bias = bias;
        this.threshold = threshold;
        this.secondModel = secondModel;
    }

    static String[] textFeatures() {
        return Arrays.copyOf(PairFeatures.NAMES, PairFeatures.TEXT_FEATURES);
    }

    /** The model the gateway ships. */
    public static DuplicateVerifier bundled() {
        try (InputStream in = DuplicateVerifier.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + RESOURCE);
            }
            return read(new InputStreamReader(in, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** This model with another acceptance threshold. */
    public DuplicateVerifier withThreshold(double t) {
        return new DuplicateVerifier(features(), weights, bias, t, secondModel);
    }

    public double threshold() {
        return threshold;
    }

    /** The features it weighs, in {@link PairFeatures#NAMES} order. */
    public String[] features() {
        return Arrays.stream(used).mapToObj(i -> PairFeatures.NAMES[i]).toArray(String[]::new);
    }

    /** The embedding model ({@code EmbeddingModel} name) whose cosine it weighs as {@code second_cosine}; empty if none. */
    public java.util.Optional<String> secondModel() {
        return java.util.Optional.ofNullable(secondModel);
    }

    /**
     * P(duplicate) for a pair's {@link PairFeatures} (the full {@link PairFeatures#NAMES} array);
     * NaN when a feature it weighs is not a number (a second cosine that was not computed).
     */
    public double probability(double[] features) {
        if (features.length != PairFeatures.count()) {
            throw new IllegalArgumentException("expected " + PairFeatures.count() + " features, got " + features.length);
        }
        double z = bias;
        for (int i = 0; i < used.length; i++) {
            z += weights[i] * features[used[i]];
        }
        return 1 / (1 + Math.exp(-z));
    }

    /** Whether the pair passes: its probability reaches the threshold (NaN never does). */
    public boolean accepts(double[] features) {
        return probability(features) >= threshold;
    }

    /** Reads what {@link #write} produces. */
    public static DuplicateVerifier read(Reader reader) throws IOException {
        Properties p = new Properties();
        p.load(reader);
        if (!FORMAT.equals(p.getProperty("format"))) {
            throw new IOException("not a " + FORMAT + " file: format=" + p.getProperty("format"));
        }
        String[] features = p.getProperty("features", "").split(",");
        double[] w = Arrays.stream(p.getProperty("weights").split(",")).mapToDouble(Double::parseDouble).toArray();
        try {
            return new DuplicateVerifier(features, w, Double.parseDouble(p.getProperty("bias")),
                    Double.parseDouble(p.getProperty("threshold")), p.getProperty("second-model"));
        } catch (IllegalArgumentException e) {
            throw new IOException("the model's features " + p.getProperty("features") + " do not fit this gateway's "
                    + String.join(",", PairFeatures.NAMES) + ": " + e.getMessage(), e);
        }
    }

    /** The model as a properties text; {@code header} becomes comment lines. */
    public String write(String header) {
        StringBuilder sb = new StringBuilder();
        for (String line : header.split("\n")) {
            if (!line.isEmpty()) {
                sb.append("# ").append(line).append('\n');
            }
        }
        sb.append("format=").append(FORMAT).append('\n');
        sb.append("features=").append(String.join(",", features())).append('\n');
        if (secondModel != null) {
            sb.append("second-model=").append(secondModel).append('\n');
        }
        StringBuilder w = new StringBuilder();
        for (double x : weights) {
            w.append(w.length() == 0 ? "" : ",").append(Double.toString(x));
        }
        sb.append("weights=").append(w).append('\n');
        sb.append("bias=").append(Double.toString(bias)).append('\n');
        sb.append("threshold=").append(Double.toString(threshold)).append('\n');
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DuplicateVerifier v && Arrays.equals(used, v.used) && Arrays.equals(weights, v.weights)
                && bias == v.bias && threshold == v.threshold && java.util.Objects.equals(secondModel, v.secondModel);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(weights) + Double.hashCode(bias);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("DuplicateVerifier[");
        if (secondModel != null) {
            sb.append("second-model=").append(secondModel).append(' ');
        }
        for (int i = 0; i < weights.length; i++) {
            sb.append(PairFeatures.NAMES[used[i]]).append('=').append(String.format(Locale.ROOT, "%.3f", weights[i])).append(' ');
        }
        return sb.append("bias=").append(String.format(Locale.ROOT, "%.3f", bias)).append(" threshold=")
                .append(threshold).append(']').toString();
    }
}
