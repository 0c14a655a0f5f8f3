package dev.offload.gateway.bench.routing;

import dev.offload.gateway.bench.routing.RouterTrainer.Sample;
import dev.offload.gateway.offload.policy.LocalQualityRouter;
import dev.offload.gateway.offload.policy.QueryFeatures;
import org.tribuo.Example;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.liblinear.LibLinearClassificationModel;
import org.tribuo.classification.liblinear.LibLinearClassificationTrainer;
import org.tribuo.classification.liblinear.LinearClassificationType;
import org.tribuo.datasource.ListDataSource;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * L2-regularised logistic regression for the {@link LocalQualityRouter} with LIBLINEAR (Fan et
 * al. 2008, <i>LIBLINEAR: A Library for Large Linear Classification</i>; Tribuo's
 * {@code tribuo-classification-liblinear}, solver {@code L2R_LR}, trust-region Newton): minimises
 * ½‖w‖² + C·Σ log-loss over standardised inputs. The embedding block is multiplied by
 * {@code embeddingScale} after standardisation, so its weights are penalised 1/scale² as much as
 * the cheap features' (the embedding mostly learns which subjects are hard). The option features
 * can be switched off ({@code optionFeatures = false}: the first eleven only). The standardisation
 * and the scales are folded into one weight vector and a bias, as {@link RouterTrainer} does.
 * LIBLINEAR's primal solver is deterministic; the seed is passed for its provenance.
 */
public final class LiblinearRouterTrainer {
    static {
        Logger.getLogger("org.tribuo").setLevel(Level.WARNING);
        Logger.getLogger("de.bwaldvogel").setLevel(Level.WARNING);
        de.bwaldvogel.liblinear.Linear.disableDebugOutput();
    }

    /**
     * @param cost           LIBLINEAR's C (larger: less regularisation)
     * @param embeddingScale factor on the standardised embedding (smaller: more regularisation); 0 drops it
     * @param optionFeatures whether the answer-option features take part
     */
    public record Params(double cost, double embeddingScale, boolean optionFeatures) {
        @Override
        public String toString() {
            return "C=" + cost + ",emb×" + embeddingScale + (optionFeatures ? "" : ",surface only");
        }
    }

    private LiblinearRouterTrainer() {
    }

    /** Trains and folds; also returns Tribuo's own P(local) for the training rows' first few, to check the fold. */
    public static LocalQualityRouter train(List<Sample> samples, Params p, long seed) {
        return fit(samples, p, seed).router();
    }

    public record Fit(LocalQualityRouter router, LibLinearClassificationModel model, double[] mean, double[] std, double[] scale,
                      String[] names) {
        /** Tribuo's P(local) for a sample (to check the folded weights against). */
        public double tribuoEstimate(Sample s) {
            return model.predict(example(RouterTrainer.raw(s), RouterTrainer.LOCAL, mean, std, scale, names)).getOutputScores()
                    .get(RouterTrainer.LOCAL.getLabel()).getScore();
        }
    }

    public static Fit fit(List<Sample> samples, Params p, long seed) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
        int dim = samples.get(0).embedding().length;
        int width = dim + QueryFeatures.count();
        String[] names = new String[width];
        for (int i = 0; i < width; i++) {
            names[i] = i < dim ? String.format("e%03d", i) : "f_" + QueryFeatures.NAMES[i - dim];
        }
        List<double[]> rows = new ArrayList<>(samples.size());
        for (Sample s : samples) {
            rows.add(RouterTrainer.raw(s));
        }
        double[] mean = new double[width];
        double[] sq = new double[width];
        for (double[] x : rows) {
            for (int i = 0; i < width; i++) {
                mean[i] += x[i];
                sq[i] += x[i] * x[i];
            }
        }
        double[] std = new double[width];
        double[] scale = new double[width];
        for (int i = 0; i < width; i++) {
            mean[i] /= rows.size();
            std[i] = Math.sqrt(Math.max(0, sq[i] / rows.size() - mean[i] * mean[i]));
            if (std[i] < 1e-9) {
                std[i] = 1;
            }
            boolean option = i >= dim + QueryFeatures.SURFACE_COUNT;
            scale[i] = i < dim ? p.embeddingScale() : option && !p.optionFeatures() ? 0 : 1;
        }
        LabelFactory factory = new LabelFactory();
        List<Example<Label>> examples = new ArrayList<>(rows.size());
        for (int r = 0; r < rows.size(); r++) {
            examples.add(example(rows.get(r), samples.get(r).localAsGood() ? RouterTrainer.LOCAL : RouterTrainer.GATEWAY, mean,
                    std, scale, names));
        }
        MutableDataset<Label> data = new MutableDataset<>(new ListDataSource<>(examples, factory,
                new SimpleDataSourceProvenance("routellm-mmlu", factory)));
        LibLinearClassificationTrainer trainer = new LibLinearClassificationTrainer(
                new LinearClassificationType(LinearClassificationType.LinearType.L2R_LR), p.cost(), 1000, 0.01, seed);
        LibLinearClassificationModel model = (LibLinearClassificationModel) trainer.train(data);

        de.bwaldvogel.liblinear.Model inner = model.getInnerModels().get(0);
        double[] w = inner.getFeatureWeights();
        int first = inner.getLabels()[0]; // LIBLINEAR's decision value is for its first label
        double sign = model.getOutputIDInfo().getOutput(first).equals(RouterTrainer.LOCAL) ? 1 : -1;
        var fm = model.getFeatureIDMap();
        double bias = inner.getBias() >= 0 ? sign * w[inner.getNrFeature()] * inner.getBias() : 0;
        double[] folded = new double[width];
        for (int i = 0; i < width; i++) {
            var info = fm.get(names[i]);
            if (info == null || scale[i] == 0) {
                continue; // constant (zero after standardisation) in every row
            }
            double d = sign * w[info.getID()] * scale[i] / std[i];
            folded[i] = d;
            bias -= d * mean[i];
        }
        float[] e = new float[dim];
        for (int i = 0; i < dim; i++) {
            e[i] = (float) folded[i];
        }
        double[] q = new double[QueryFeatures.count()];
        System.arraycopy(folded, dim, q, 0, q.length);
        return new Fit(new LocalQualityRouter(e, q, bias), model, mean, std, scale, names);
    }

    private static Example<Label> example(double[] raw, Label label, double[] mean, double[] std, double[] scale, String[] names) {
        double[] x = new double[raw.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = scale[i] * (raw[i] - mean[i]) / std[i];
        }
        return new ArrayExample<>(label, names, x);
    }
}
