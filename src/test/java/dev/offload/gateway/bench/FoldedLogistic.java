package dev.offload.gateway.bench;

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
 * Two-class logistic regression with Tribuo — {@link LinearSGDTrainer}, log loss, AdaGrad with
 * parameter averaging — on standardised inputs, folded back into one weight vector over the raw
 * inputs and a bias: {@code P(positive) = sigmoid(w · x + b)}. What the gateway ships (the local
 * quality router, the cache's duplicate verifier) is that vector, so it needs neither Tribuo nor the
 * scaling statistics at run time. Deterministic for a given seed and row order. Not thread-safe.
 */
public final class FoldedLogistic {
    static {
        Logger.getLogger("org.tribuo").setLevel(Level.WARNING); // Tribuo logs every epoch at INFO
    }

    private FoldedLogistic() {
    }

    /**
     * @param epochs       passes over the data
     * @param learningRate AdaGrad's initial rate
     */
    public record Settings(int epochs, double learningRate, long seed) {
    }

    /** The Tribuo model, the standardisation it was trained on, and the folded weights over raw inputs. */
    public record Fit(LinearSGDModel model, String source, String[] names, double[] mean, double[] std,
                      double[] weights, double bias, Label positive, Label negative) {
        /** A raw row as the model saw it in training: standardised, labelled. */
        public Example<Label> example(double[] raw, Label label) {
            double[] x = new double[raw.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = (raw[i] - mean[i]) / std[i];
            }
            return new ArrayExample<>(label, names, x);
        }

        /** Tribuo's own P(positive) for a raw row, to check the folded weights against. */
        public double tribuoScore(double[] raw) {
            return model.predict(example(raw, positive)).getOutputScores().get(positive.getLabel()).getScore();
        }

        /** Labelled raw rows as a Tribuo dataset standardised like this fit's (for other trainers on the same inputs). */
        public MutableDataset<Label> dataset(List<double[]> rows, boolean[] isPositive, double[] rowWeights) {
            LabelFactory factory = new LabelFactory();
            List<Example<Label>> examples = new ArrayList<>(rows.size());
            for (int r = 0; r < rows.size(); r++) {
                Example<Label> e = example(rows.get(r), isPositive[r] ? positive : negative);
                if (rowWeights != null) {
                    e.setWeight((float) rowWeights[r]);
                }
                examples.add(e);
            }
            return new MutableDataset<>(new ListDataSource<>(examples, factory, new SimpleDataSourceProvenance(source, factory)));
        }
    }

    /**
     * Fits the model.
     *
     * @param source     the data's name, for Tribuo's provenance
     * @param names      one feature name per input column
     * @param rows       raw input rows, all {@code names.length} wide
     * @param isPositive each row's label
     * @param rowWeights each row's weight, or null for 1
     */
    public static Fit fit(String source, String[] names, List<double[]> rows, boolean[] isPositive, double[] rowWeights,
                          Label positive, Label negative, Settings s) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
        int width = names.length;
        double[] mean = new double[width];
        double[] sq = new double[width];
        for (double[] x : rows) {
            for (int i = 0; i < width; i++) {
                mean[i] += x[i];
                sq[i] += x[i] * x[i];
            }
        }
        double[] std = new double[width];
        for (int i = 0; i < width; i++) {
            mean[i] /= rows.size();
            std[i] = Math.sqrt(Math.max(0, sq[i] / rows.size() - mean[i] * mean[i]));
            if (std[i] < 1e-9) {
                std[i] = 1; // a constant input: its weight stays where it starts
            }
        }
        Fit unfitted = new Fit(null, source, names, mean, std, null, 0, positive, negative);
        MutableDataset<Label> data = unfitted.dataset(rows, isPositive, rowWeights);
        LinearSGDTrainer trainer = new LinearSGDTrainer(new LogMulticlass(),
                new ParameterAveraging(new AdaGrad(s.learningRate(), 1e-6)), s.epochs(), Integer.MAX_VALUE, 1, s.seed());
        LinearSGDModel model = (LinearSGDModel) trainer.train(data);

        DenseMatrix w = model.getWeightsCopy(); // rows: labels; columns: features, then the bias
        ImmutableFeatureMap fm = model.getFeatureIDMap();
        int p = model.getOutputIDInfo().getID(positive);
        int n = model.getOutputIDInfo().getID(negative);
        double bias = w.get(p, fm.size()) - w.get(n, fm.size());
        double[] folded = new double[width];
        for (int i = 0; i < width; i++) {
            var info = fm.get(names[i]);
            if (info == null) {
                continue; // zero in every row after standardisation
            }
            double d = w.get(p, info.getID()) - w.get(n, info.getID());
            folded[i] = d / std[i];
            bias -= d * mean[i] / std[i];
        }
        return new Fit(model, source, names, mean, std, folded, bias, positive, negative);
    }
}
