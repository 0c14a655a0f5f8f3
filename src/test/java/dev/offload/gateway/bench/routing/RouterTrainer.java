package dev.offload.gateway.bench.routing;

import dev.offload.gateway.offload.policy.LocalQualityRouter;
import dev.offload.gateway.offload.policy.QueryFeatures;
import dev.offload.gateway.bench.FoldedLogistic;
import org.tribuo.classification.Label;
import org.tribuo.classification.sgd.linear.LinearSGDTrainer;
import org.tribuo.classification.sgd.objectives.LogMulticlass;
import org.tribuo.math.optimisers.AdaGrad;
import org.tribuo.math.optimisers.ParameterAveraging;

import java.util.ArrayList;
import java.util.List;

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

    public static LocalQualityRouter train(List<Sample> samples, Params p) {
        return fit(samples, p).router();
    }

    /** The fitted Tribuo model and its folded export, so a caller can check one against the other. */
    public record Fit(FoldedLogistic.Fit logistic, LocalQualityRouter router) {
        /** Tribuo's own P(local) for a sample, computed from the standardised inputs. */
        public double tribuoEstimate(Sample s) {
            return logistic.tribuoScore(raw(s));
        }
    }

    public static Fit fit(List<Sample> samples, Params p) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
        int dim = samples.get(0).embedding().length;
        FoldedLogistic.Fit f = FoldedLogistic.fit("routellm-mmlu", names(dim), rows(samples), labels(samples), null,
                LOCAL, GATEWAY, new FoldedLogistic.Settings(p.epochs(), p.learningRate(), p.seed()));
        float[] e = new float[dim];
        for (int i = 0; i < dim; i++) {
            e[i] = (float) f.weights()[i];
        }
        double[] q = new double[QueryFeatures.count()];
        System.arraycopy(f.weights(), dim, q, 0, q.length);
        return new Fit(f, new LocalQualityRouter(e, q, f.bias()));
    }

    private static String[] names(int dim) {
        String[] names = new String[dim + QueryFeatures.count()];
        for (int i = 0; i < dim; i++) {
            names[i] = String.format("e%03d", i);
        }
        for (int j = 0; j < QueryFeatures.count(); j++) {
            names[dim + j] = "f_" + QueryFeatures.NAMES[j];
        }
        return names;
    }

    private static List<double[]> rows(List<Sample> samples) {
        List<double[]> rows = new ArrayList<>(samples.size());
        for (Sample s : samples) {
            rows.add(raw(s));
        }
        return rows;
    }

    private static boolean[] labels(List<Sample> samples) {
        boolean[] y = new boolean[samples.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = samples.get(i).localAsGood();
        }
        return y;
    }

    /**
     * Exploration only (not shipped): a factorisation machine (Tribuo's FMClassificationTrainer,
     * Rendle 2010) on the same standardised inputs; returns its P(local) for {@code test}.
     */
    public static double[] factorisationMachine(List<Sample> train, List<Sample> test, Params p, int factors) {
        FoldedLogistic.Fit linear = fit(train, p).logistic(); // for the names and the standardisation
        var trainer = new org.tribuo.classification.sgd.fm.FMClassificationTrainer(new LogMulticlass(),
                new ParameterAveraging(new AdaGrad(p.learningRate(), 1e-6)), p.epochs(), Integer.MAX_VALUE, 1, p.seed(), factors, 0.01);
        var model = trainer.train(linear.dataset(rows(train), labels(train), null));
        double[] out = new double[test.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = model.predict(linear.example(raw(test.get(i)), LOCAL)).getOutputScores().get(LOCAL.getLabel()).getScore();
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
}
