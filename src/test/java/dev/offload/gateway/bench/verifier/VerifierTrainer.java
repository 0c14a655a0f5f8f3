package dev.offload.gateway.bench.verifier;

import dev.offload.gateway.cache.DuplicateVerifier;
import dev.offload.gateway.cache.PairFeatures;
import org.tribuo.Example;
import org.tribuo.ImmutableFeatureMap;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.sgd.linear.LinearSGDModel;
import org.tribuo.classification.sgd.linear.LinearSGDTrainer;
import org.tribuo.classification.sgd.objectives.LogMulticlass;
import org.tribuo.datasource.ListDataSource;
import org.tribuo.impl.ArrayExample;
import org.tribuo.math.la.DenseMatrix;
import org.tribuo.math.optimisers.AdaGrad;
import org.tribuo.math.optimisers.ParameterAveraging;
import org.tribuo.provenance.SimpleDataSourceProvenance;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

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

    static {
        Logger.getLogger("org.tribuo").setLevel(Level.WARNING); // Tribuo logs every epoch at INFO
    }

    private VerifierTrainer() {
    }

    /** The fitted model folded into a verifier with the given acceptance threshold. */
    public static DuplicateVerifier train(List<Sample> samples, Params p, double threshold) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
        int width = PairFeatures.count();
        String[] names = PairFeatures.NAMES;
        double[] mean = new double[width];
        double[] sq = new double[width];
        for (Sample s : samples) {
            for (int i = 0; i < width; i++) {
                mean[i] += s.features()[i];
                sq[i] += s.features()[i] * s.features()[i];
            }
        }
        double[] std = new double[width];
        for (int i = 0; i < width; i++) {
            mean[i] /= samples.size();
            std[i] = Math.sqrt(Math.max(0, sq[i] / samples.size() - mean[i] * mean[i]));
            if (std[i] < 1e-9) {
                std[i] = 1; // a constant feature: its weight stays at zero
            }
        }
        LabelFactory factory = new LabelFactory();
        List<Example<Label>> examples = new ArrayList<>(samples.size());
        for (Sample s : samples) {
            double[] x = new double[width];
            for (int i = 0; i < width; i++) {
                x[i] = (s.features()[i] - mean[i]) / std[i];
            }
            ArrayExample<Label> e = new ArrayExample<>(s.duplicate() ? DUPLICATE : DIFFERENT, names, x);
            e.setWeight((float) s.weight());
            examples.add(e);
        }
        var provenance = new SimpleDataSourceProvenance("gptcache-pairs", factory);
        MutableDataset<Label> data = new MutableDataset<>(new ListDataSource<>(examples, factory, provenance));
        LinearSGDTrainer trainer = new LinearSGDTrainer(new LogMulticlass(),
                new ParameterAveraging(new AdaGrad(p.learningRate(), 1e-6)), p.epochs(), Integer.MAX_VALUE, 1, p.seed());
        LinearSGDModel model = (LinearSGDModel) trainer.train(data);

        DenseMatrix w = model.getWeightsCopy(); // rows: labels; columns: features, then the bias
        ImmutableFeatureMap fm = model.getFeatureIDMap();
        int d = model.getOutputIDInfo().getID(DUPLICATE);
        int o = model.getOutputIDInfo().getID(DIFFERENT);
        double bias = w.get(d, fm.size()) - w.get(o, fm.size());
        double[] folded = new double[width];
        for (int i = 0; i < width; i++) {
            var info = fm.get(names[i]);
            if (info == null) {
                continue; // zero in every sample after standardisation
            }
            double diff = w.get(d, info.getID()) - w.get(o, info.getID());
            folded[i] = diff / std[i];
            bias -= diff * mean[i] / std[i];
        }
        return new DuplicateVerifier(folded, bias, threshold);
    }
}
