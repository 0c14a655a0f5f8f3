package dev.offload.gateway.bench.verifier;

import dev.offload.gateway.bench.FoldedLogistic;
import dev.offload.gateway.cache.DuplicateVerifier;
import dev.offload.gateway.cache.PairFeatures;
import org.tribuo.classification.Label;
import org.tribuo.classification.sgd.linear.LinearSGDTrainer;
import org.tribuo.math.optimisers.AdaGrad;

import java.util.ArrayList;
import java.util.List;

/**
 * Trains the {@link DuplicateVerifier} with Tribuo: logistic regression ({@link LinearSGDTrainer},
 * log loss, AdaGrad with parameter averaging) on standardised {@link PairFeatures}, label
 * "duplicate" or "different". The standardisation and the two-class softmax are folded into one
 * weight vector and a bias, so the gateway needs neither Tribuo nor the scaling at run time (as
 * {@code RouterTrainer} does for the router). Deterministic for a given seed and sample order.
 * One thread; not thread-safe.
 */
public final class VerifierTrainer {
    static final Label DUPLICATE = new Label("duplicate");
    static final Label DIFFERENT = new Label("different");

    /** @param epochs passes over the data; @param learningRate AdaGrad's initial rate */
    public record Params(int epochs, double learningRate, long seed) {
        public Params {
            if (epochs < 1 || !(learningRate > 0)) {
                throw new IllegalArgumentException("epochs >= 1 and learningRate > 0");
            }
        }
    }

    /** One labelled pair: its features ({@link PairFeatures#of}) and whether it is a duplicate. */
    public record Sample(double[] features, boolean duplicate, double weight) {
        public Sample {
            if (features.length != PairFeatures.count() || !(weight > 0)) {
                throw new IllegalArgumentException("expected " + PairFeatures.count() + " features and a positive weight");
            }
        }

        public Sample(double[] features, boolean duplicate) {
            this(features, duplicate, 1);
        }
    }

    private VerifierTrainer() {
    }

    /** The fitted model over the text features (no second embedding) folded into a verifier with the given threshold. */
    public static DuplicateVerifier train(List<Sample> samples, Params p, double threshold) {
        return train(samples, java.util.Arrays.copyOf(PairFeatures.NAMES, PairFeatures.TEXT_FEATURES), null, p, threshold);
    }

    /**
     * The fitted model over the named features (in {@link PairFeatures#NAMES} order) folded into a
     * verifier with the given threshold; {@code secondModel} names the model of {@code second_cosine}.
     */
    public static DuplicateVerifier train(List<Sample> samples, String[] features, String secondModel, Params p,
                                          double threshold) {
        int[] at = new int[features.length];
        for (int j = 0; j < features.length; j++) {
            at[j] = java.util.Arrays.asList(PairFeatures.NAMES).indexOf(features[j]);
        }
        List<double[]> rows = new ArrayList<>(samples.size());
        boolean[] duplicate = new boolean[samples.size()];
        double[] weights = new double[samples.size()];
        for (int i = 0; i < samples.size(); i++) {
            double[] row = new double[at.length];
            for (int j = 0; j < at.length; j++) {
                row[j] = samples.get(i).features()[at[j]];
            }
            rows.add(row);
            duplicate[i] = samples.get(i).duplicate();
            weights[i] = samples.get(i).weight();
        }
        FoldedLogistic.Fit f = FoldedLogistic.fit("gptcache-pairs", features, rows, duplicate, weights,
                DUPLICATE, DIFFERENT, new FoldedLogistic.Settings(p.epochs(), p.learningRate(), p.seed()));
        return new DuplicateVerifier(features, f.weights(), f.bias(), threshold, secondModel);
    }
}
