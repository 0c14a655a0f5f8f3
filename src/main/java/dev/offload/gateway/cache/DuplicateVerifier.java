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
 * the features are known. The threshold ships with the weights (chosen on the training half).
 *
 * <p>Immutable; any thread.
 */
public final class DuplicateVerifier {
    /** Classpath resource the gateway ships (written by {@code ./mvnw -q test-compile exec:exec@verifier}). */
    public static final String RESOURCE = "/dev/offload/gateway/cache/duplicate-verifier.properties";
    public static final String FORMAT = "duplicate-verifier/1";

    private final double[] weights;
    private final double bias;
    private final double threshold;

    public DuplicateVerifier(double[] weights, double bias, double threshold) {
        if (weights.length != PairFeatures.count()) {
            throw new IllegalArgumentException("expected " + PairFeatures.count() + " weights, got " + weights.length);
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
        return new DuplicateVerifier(weights, bias, t);
    }

    public double threshold() {
        return threshold;
    }

    /** P(duplicate) for a pair's {@link PairFeatures}; NaN when a feature is not a number. */
    public double probability(double[] features) {
        if (features.length != weights.length) {
            throw new IllegalArgumentException("expected " + weights.length + " features, got " + features.length);
        }
        double z = bias;
        for (int i = 0; i < weights.length; i++) {
            z += weights[i] * features[i];
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
        if (!String.join(",", PairFeatures.NAMES).equals(p.getProperty("features"))) {
            throw new IOException("the model's features " + p.getProperty("features") + " are not this gateway's "
                    + String.join(",", PairFeatures.NAMES));
        }
        double[] w = Arrays.stream(p.getProperty("weights").split(",")).mapToDouble(Double::parseDouble).toArray();
        return new DuplicateVerifier(w, Double.parseDouble(p.getProperty("bias")),
                Double.parseDouble(p.getProperty("threshold")));
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
        sb.append("features=").append(String.join(",", PairFeatures.NAMES)).append('\n');
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
        return o instanceof DuplicateVerifier v && Arrays.equals(weights, v.weights) && bias == v.bias
                && threshold == v.threshold;
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(weights) + Double.hashCode(bias);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("DuplicateVerifier[");
        for (int i = 0; i < weights.length; i++) {
            sb.append(PairFeatures.NAMES[i]).append('=').append(String.format(Locale.ROOT, "%.3f", weights[i])).append(' ');
        }
        return sb.append("bias=").append(String.format(Locale.ROOT, "%.3f", bias)).append(" threshold=")
                .append(threshold).append(']').toString();
    }
}
