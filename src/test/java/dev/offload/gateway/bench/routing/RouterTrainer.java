package dev.offload.gateway.bench.routing;

import dev.offload.gateway.offload.policy.LocalQualityRouter;
import dev.offload.gateway.offload.policy.QueryFeatures;
import org.tribuo.Example;
import org.tribuo.ImmutableFeatureMap;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
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
 * Trains the {@link LocalQualityRouter} with Tribuo: logistic regression (Tribuo's
 * {@link LinearSGDTrainer} with the log-loss objective, AdaGrad with parameter averaging) on
 * standardised inputs — the 384 embedding components and the {@link QueryFeatures} — with the
 * label "local" when the weak model answered at least as well as the strong one, "gateway"
 * otherwise. The standardisation and the two-class softmax are folded into one weight vector and
 * a bias, so the gateway needs neither Tribuo nor the scaling statistics at run time.
 * Deterministic for a given seed and input order. One thread; not thread-safe.
 */
public final class RouterTrainer {
    static final Label LOCAL = new Label("local");
    static final Label GATEWAY = new Label("gateway");

    /**
     * @param epochs       passes over the data
     * @param learningRate AdaGrad's initial rate
     */
    public record Params(int epochs, double learningRate, long seed) {
        public Params {
            if (epochs < 1 || learningRate <= 0) {
                throw new IllegalArgumentException("epochs >= 1 and learningRate > 0");
            }
        }
    }

    /** One labelled question: its text, its embedding, and whether the weak model did as well. */
    public record Sample(String text, float[] embedding, boolean localAsGood) {
    }

    private RouterTrainer() {
    }

    static {
        // Tribuo logs every epoch at INFO.
        Logger.getLogger("org.tribuo").setLevel(Level.WARNING);
    }

    public static LocalQualityRouter train(List<Sample> samples, Params p) {
        return fit(samples, p).router();
    }

    /** The fitted Tribuo model and its folded export, so a caller can check one against the other. */
    public record Fit(LinearSGDModel model, String[] names, double[] mean, double[] std, LocalQualityRouter router) {
        /** Tribuo's own P(local) for a sample, computed from the standardised inputs. */
        public double tribuoEstimate(Sample s) {
            Prediction<Label> pr = model.predict(example(s, names, mean, std, LOCAL));
            return pr.getOutputScores().get(LOCAL.getLabel()).getScore();
        }
    }

    public static Fit fit(List<Sample> samples, Params p) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
        int dim = samples.get(0).embedding().length;
        int width = dim + QueryFeatures.count();
        String[] names = new String[width];
        for (int i = 0; i < dim; i++) {
            names[i] = String.format("e%03d", i);
        }
        for (int j = 0; j < QueryFeatures.count(); j++) {
            names[dim + j] = "f_" + QueryFeatures.NAMES[j];
        }
        double[] mean = new double[width];
        double[] sq = new double[width];
        for (Sample s : samples) {
            double[] x = raw(s);
            for (int i = 0; i < width; i++) {
                mean[i] += x[i];
                sq[i] += x[i] * x[i];
            }
        }
        double[] std = new double[width];
        for (int i = 0; i < width; i++) {
            mean[i] /= samples.size();
            std[i] = Math.sqrt(Math.max(0, sq[i] / samples.size() - mean[i] * mean[i]));
            if (std[i] < 1e-9) {
                std[i] = 1; // a constant input: its weight stays where it starts
            }
        }
        LabelFactory factory = new LabelFactory();
        List<Example<Label>> examples = new ArrayList<>(samples.size());
        for (Sample s : samples) {
            examples.add(example(s, names, mean, std, s.localAsGood() ? LOCAL : GATEWAY));
        }
        var provenance = new SimpleDataSourceProvenance("routellm-mmlu", factory);
        MutableDataset<Label> data = new MutableDataset<>(new ListDataSource<>(examples, factory, provenance));
        LinearSGDTrainer trainer = new LinearSGDTrainer(new LogMulticlass(),
                new ParameterAveraging(new AdaGrad(p.learningRate(), 1e-6)), p.epochs(), Integer.MAX_VALUE, 1, p.seed());
        LinearSGDModel model = (LinearSGDModel) trainer.train(data);

        DenseMatrix w = model.getWeightsCopy(); // rows: labels; columns: features, then the bias
        ImmutableFeatureMap fm = model.getFeatureIDMap();
        int l = model.getOutputIDInfo().getID(LOCAL);
        int g = model.getOutputIDInfo().getID(GATEWAY);
        int biasColumn = fm.size();
        double bias = w.get(l, biasColumn) - w.get(g, biasColumn);
        double[] folded = new double[width];
        for (int i = 0; i < width; i++) {
            var info = fm.get(names[i]);
            if (info == null) {
                continue; // never non-zero in the training data
            }
            double d = w.get(l, info.getID()) - w.get(g, info.getID());
            folded[i] = d / std[i];
            bias -= d * mean[i] / std[i];
        }
        float[] e = new float[dim];
        for (int i = 0; i < dim; i++) {
            e[i] = (float) folded[i];
        }
        double[] f = new double[QueryFeatures.count()];
        System.arraycopy(folded, dim, f, 0, f.length);
        return new Fit(model, names, mean, std, new LocalQualityRouter(e, f, bias));
    }

    /**
     * Exploration only (not shipped): a factorisation machine (Tribuo's FMClassificationTrainer,
     * Rendle 2010) on the same standardised inputs; returns its P(local) for {@code test}.
     */
    public static double[] factorisationMachine(List<Sample> train, List<Sample> test, Params p, int factors) {
        Fit linear = fit(train, p); // for the names and the standardisation
        LabelFactory factory = new LabelFactory();
        List<Example<Label>> examples = new ArrayList<>(train.size());
        for (Sample s : train) {
            examples.add(example(s, linear.names(), linear.mean(), linear.std(), s.localAsGood() ? LOCAL : GATEWAY));
        }
        var provenance = new SimpleDataSourceProvenance("routellm-mmlu", factory);
        MutableDataset<Label> data = new MutableDataset<>(new ListDataSource<>(examples, factory, provenance));
        var trainer = new org.tribuo.classification.sgd.fm.FMClassificationTrainer(new LogMulticlass(),
                new ParameterAveraging(new AdaGrad(p.learningRate(), 1e-6)), p.epochs(), Integer.MAX_VALUE, 1, p.seed(), factors, 0.01);
        var model = trainer.train(data);
        double[] out = new double[test.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = model.predict(example(test.get(i), linear.names(), linear.mean(), linear.std(), LOCAL))
                    .getOutputScores().get(LOCAL.getLabel()).getScore();
        }
        return out;
    }

    static double[] raw(Sample s) {
        int dim = s.embedding().length;
        double[] x = new double[dim + QueryFeatures.count()];
        for (int i = 0; i < dim; i++) {
            x[i] = s.embedding()[i];
        }
        QueryFeatures.into(s.text(), x, dim);
        return x;
    }

    private static Example<Label> example(Sample s, String[] names, double[] mean, double[] std, Label label) {
        double[] x = raw(s);
        for (int i = 0; i < x.length; i++) {
            x[i] = (x[i] - mean[i]) / std[i];
        }
        return new ArrayExample<>(label, names, x);
    }
}
