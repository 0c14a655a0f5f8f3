package dev.offload.gateway.offload.policy;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.Properties;

/**
 * The probability that the device's small model answers a question as well as the gateway's
 * larger one: a logistic model over the question's embedding and its {@link QueryFeatures},
 * trained on RouteLLM's MMLU labels ("weak correct ≥ strong correct", Ong et al. 2024,
 * <i>RouteLLM: Learning to Route LLMs with Preference Data</i>) by {@code bench.RouterTraining}
 * (Tribuo's linear SGD), which folds the feature standardisation into the weights it writes. So
 * at run time an estimate is the features plus one dot product of 403 numbers; the embedding is
 * the caller's and must come from the model the router was trained on: one resource per
 * embedding model ({@link #resource}, {@link #bundled(String)}).
 *
 * <p>Immutable; any thread.
 */
public final class LocalQualityRouter {
    /** The embedding model of the default router (all-MiniLM-L6-v2, quantized; the gateway's default). */
    public static final String DEFAULT_MODEL = "all-minilm-l6-v2-q";
    /** Classpath resource of the default router (written by {@code ./mvnw -q test-compile exec:exec@router}). */
    public static final String RESOURCE = resource(DEFAULT_MODEL);
    public static final String FORMAT = "local-quality-router/1";

    private final float[] embeddingWeights;
    private final double[] featureWeights;
    private final double bias;
    private final String embeddingModel;

    public LocalQualityRouter(float[] embeddingWeights, double[] featureWeights, double bias) {
        this(embeddingWeights, featureWeights, bias, null);
    }

    /** @param embeddingModel the embedding model the weights were trained on, null when unknown */
    public LocalQualityRouter(float[] embeddingWeights, double[] featureWeights, double bias, String embeddingModel) {
        if (featureWeights.length != QueryFeatures.count()) {
            throw new IllegalArgumentException("expected " + QueryFeatures.count() + " feature weights, got "
                    + featureWeights.length);
        }
        if (!Double.isFinite(bias)) {
            throw new IllegalArgumentException("bias must be finite");
        }
        for (float w : embeddingWeights) {
            if (!Float.isFinite(w)) {
                throw new IllegalArgumentException("weights must be finite");
            }
        }
        for (double w : featureWeights) {
            if (!Double.isFinite(w)) {
                throw new IllegalArgumentException("weights must be finite");
            }
        }
        this.embeddingWeights = embeddingWeights.clone();
        this.featureWeights = featureWeights.clone();
        this.bias = bias;
        this.embeddingModel = embeddingModel;
    }

    /** The embedding model the weights were trained on (the file's {@code embedding.model}), null when not recorded. */
    public String embeddingModel() {
        return embeddingModel;
    }

    /**
     * The classpath resource of the router trained on {@code embeddingModel}'s embeddings (its
     * name as {@code gateway.embedding.model} takes it, e.g. {@code e5-small-v2-q}): one router
     * per embedding model, so the estimate always uses the embedding the gateway computes.
     */
    public static String resource(String embeddingModel) {
        return "/dev/offload/gateway/offload/policy/local-quality-router-" + embeddingModel.toLowerCase(java.util.Locale.ROOT)
                + ".properties";
    }

    /** The router the gateway ships for its default embedding model (all-MiniLM-L6-v2). */
    public static LocalQualityRouter bundled() {
        return bundled(DEFAULT_MODEL).orElseThrow(() -> new IllegalStateException("missing resource " + RESOURCE));
    }

    /** The router the gateway ships for {@code embeddingModel}, if it ships one. */
    public static java.util.Optional<LocalQualityRouter> bundled(String embeddingModel) {
        String name = resource(embeddingModel);
        try (InputStream in = LocalQualityRouter.class.getResourceAsStream(name)) {
            if (in == null) {
                return java.util.Optional.empty();
            }
            LocalQualityRouter r = read(new InputStreamReader(in, StandardCharsets.UTF_8));
            if (r.embeddingModel != null && !r.embeddingModel.equalsIgnoreCase(embeddingModel)) {
                throw new IllegalStateException(name + " was trained on " + r.embeddingModel + " embeddings");
            }
            return java.util.Optional.of(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads the file {@link #write} produces. */
    public static LocalQualityRouter read(Reader reader) throws IOException {
        Properties p = new Properties();
        p.load(reader);
        if (!FORMAT.equals(p.getProperty("format"))) {
            throw new IOException("not a " + FORMAT + " file: format=" + p.getProperty("format"));
        }
        if (!String.join(",", QueryFeatures.NAMES).equals(p.getProperty("features"))) {
            throw new IOException("the model's features " + p.getProperty("features") + " are not this gateway's "
                    + String.join(",", QueryFeatures.NAMES));
        }
        int dim = Integer.parseInt(p.getProperty("embedding.dimension"));
        float[] e = new float[dim];
        for (int i = 0; i < dim; i++) {
            e[i] = Float.parseFloat(required(p, "w.e" + i));
        }
        double[] f = new double[QueryFeatures.count()];
        for (int j = 0; j < f.length; j++) {
            f[j] = Double.parseDouble(required(p, "w." + QueryFeatures.NAMES[j]));
        }
        return new LocalQualityRouter(e, f, Double.parseDouble(required(p, "bias")), p.getProperty("embedding.model"));
    }

    private static String required(Properties p, String key) throws IOException {
        String v = p.getProperty(key);
        if (v == null) {
            throw new IOException("missing " + key);
        }
        return v;
    }

    /** The model as a small text file: header comments, then one weight a line (diffs stay readable). */
    public String write(String comment) {
        return write(comment, embeddingModel);
    }

    /** As {@link #write(String)}, recording the embedding model the weights were trained on (null: not recorded). */
    public String write(String comment, String embeddingModel) {
        StringBuilder b = new StringBuilder();
        for (String line : comment.split("\n")) {
            b.append("# ").append(line).append('\n');
        }
        b.append("format=").append(FORMAT).append('\n');
        if (embeddingModel != null) {
            b.append("embedding.model=").append(embeddingModel).append('\n');
        }
        b.append("embedding.dimension=").append(embeddingWeights.length).append('\n');
        b.append("features=").append(String.join(",", QueryFeatures.NAMES)).append('\n');
        b.append("bias=").append(bias).append('\n');
        for (int j = 0; j < featureWeights.length; j++) {
            b.append("w.").append(QueryFeatures.NAMES[j]).append('=').append(featureWeights[j]).append('\n');
        }
        for (int i = 0; i < embeddingWeights.length; i++) {
            b.append("w.e").append(i).append('=').append(embeddingWeights[i]).append('\n');
        }
        return b.toString();
    }

    public int dimension() {
        return embeddingWeights.length;
    }

    /**
     * P(the small model answers as well as the large one), in [0, 1].
     *
     * @param embedding the question's embedding from the gateway's {@code Embedder} (unit length)
     */
    public double estimate(String text, float[] embedding) {
        Objects.requireNonNull(embedding, "embedding");
        if (embedding.length != embeddingWeights.length) {
            throw new IllegalArgumentException("expected a " + embeddingWeights.length + "-d embedding, got "
                    + embedding.length);
        }
        double z = bias;
        for (int i = 0; i < embeddingWeights.length; i++) {
            z += embeddingWeights[i] * embedding[i];
        }
        double[] f = QueryFeatures.of(text);
        for (int j = 0; j < f.length; j++) {
            z += featureWeights[j] * f[j];
        }
        return 1 / (1 + Math.exp(-z));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LocalQualityRouter r && bias == r.bias && Arrays.equals(embeddingWeights, r.embeddingWeights)
                && Arrays.equals(featureWeights, r.featureWeights);
    }

    @Override
    public int hashCode() {
        return Objects.hash(bias, Arrays.hashCode(embeddingWeights), Arrays.hashCode(featureWeights));
    }
}
