package dev.offload.gateway.bench.fleet;

import dev.offload.gateway.bench.fleet.QuestionPool.Kind;
import dev.offload.gateway.bench.fleet.QuestionPool.Question;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * What the fleet asks and when, generated once per repetition and replayed unchanged for every
 * policy, so the policies see the same queries at the same instants. Plain Java, deterministic
 * for a seed; any thread.
 *
 * <p>Arrivals are open-loop: each device is a non-homogeneous Poisson process whose rate is its
 * share of the fleet rate (devices differ in activity by a log-normal factor of mean 1) times
 * the scenario's {@link Scenario#rateFactor rate factor}, drawn by thinning (Lewis and Shedler
 * 1979). Questions are then assigned in time order: a repeat of the device's own earlier
 * question, a paraphrase of a question some device asked before, or a fresh pick whose kind
 * follows the kind mix and whose rank within that kind follows a Zipf law (popular questions
 * recur across the fleet).
 */
final class Workload {
    record Turn(String role, String content) {
    }

    /**
     * @param origin {@code first} (never asked before in this run), {@code fleet-repeat} (the same
     *               text was asked by some device before), {@code own-repeat}, {@code paraphrase}
     * @param question the question asked (its origin and quality labels), whatever the wording
     */
    record Arrival(int index, int device, double atS, String text, Kind kind, String origin, String sensitivity,
                   List<Turn> history, int outputTokens, long budgetMs, Question question) {
    }

    private Workload() {
    }

    static List<Arrival> generate(FleetOptions o, QuestionPool pool, long seed) {
        Scenario s = o.scenario;
        Random r = new Random(Seeds.mix(seed, -1));
        double[] activity = new double[o.devices];
        double sum = 0;
        for (int d = 0; d < o.devices; d++) {
            activity[d] = Math.exp(0.5 * r.nextGaussian());
            sum += activity[d];
        }
        record Slot(int device, double atS) {
        }
        List<Slot> slots = new ArrayList<>();
        double max = s.maxRateFactor();
        for (int d = 0; d < o.devices; d++) {
            double base = o.fleetRate() * activity[d] / sum;
            double peak = base * max;
            if (peak <= 0) {
                continue;
            }
            Random dr = new Random(Seeds.mix(seed, d));
            for (double t = 0; ; ) {
                t += -Math.log(1 - dr.nextDouble()) / peak;
                if (t >= s.durationS()) {
                    break;
                }
                if (dr.nextDouble() * max < s.rateFactor(t)) {
                    slots.add(new Slot(d, t));
                }
            }
        }
        slots.sort(Comparator.comparingDouble(Slot::atS));

        Map<Kind, double[]> zipfCdf = new EnumMap<>(Kind.class);
        for (Kind k : Kind.values()) {
            zipfCdf.put(k, zipfCdf(pool.of(k).size(), o.zipf));
        }
        List<List<Question>> asked = new ArrayList<>();
        for (int d = 0; d < o.devices; d++) {
            asked.add(new ArrayList<>());
        }
        List<Question> askedWithParaphrase = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        String[] levels = o.sensitivityMix.keySet().toArray(String[]::new);
        double[] levelWeights = o.sensitivityMix.values().stream().mapToDouble(Double::doubleValue).toArray();
        List<Arrival> out = new ArrayList<>(slots.size());
        for (Slot slot : slots) {
            List<Question> mine = asked.get(slot.device());
            double u = r.nextDouble();
            Question q;
            String text;
            String origin;
            if (u < o.repeatShare && !mine.isEmpty()) {
                q = mine.get(r.nextInt(mine.size()));
                text = q.text();
                origin = "own-repeat";
            } else if (u < o.repeatShare + o.paraphraseShare && !askedWithParaphrase.isEmpty()) {
                q = askedWithParaphrase.get(r.nextInt(askedWithParaphrase.size()));
                text = q.paraphrase();
                origin = "paraphrase";
            } else {
                Kind k = Kind.values()[pick(o.kindMix, r)];
                List<Question> candidates = pool.of(k);
                q = candidates.get(rank(zipfCdf.get(k), r));
                text = q.text();
                origin = seen.contains(text) ? "fleet-repeat" : "first";
                if (q.paraphrase() != null && !seen.contains(text)) {
                    askedWithParaphrase.add(q);
                }
            }
            seen.add(text);
            List<Turn> history = new ArrayList<>();
            if (!mine.isEmpty() && r.nextDouble() < o.historyShare) {
                for (int i = Math.max(0, mine.size() - 2); i < mine.size(); i++) {
                    Question prev = mine.get(i);
                    history.add(new Turn("user", prev.text()));
                    history.add(new Turn("assistant", earlierAnswer(o.outputTokens[prev.kind().ordinal()])));
                }
            }
            mine.add(q);
            int kind = q.kind().ordinal();
            out.add(new Arrival(out.size(), slot.device(), slot.atS(), text, q.kind(), origin,
                    levels[pick(levelWeights, r)], List.copyOf(history), o.outputTokens[kind], o.budgetsMs[kind], q));
        }
        return out;
    }

    /** A stand-in for the device's earlier answer: about 0.75 words per token of its length. */
    private static String earlierAnswer(int tokens) {
        String[] words = {"the", "gateway", "keeps", "the", "batch", "full", "and", "answers", "from", "the", "index"};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.max(1, tokens * 3 / 4); i++) {
            sb.append(i == 0 ? "" : " ").append(words[i % words.length]);
        }
        return sb.toString();
    }

    private static double[] zipfCdf(int n, double s) {
        double[] cdf = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += 1 / Math.pow(i + 1, s);
            cdf[i] = total;
        }
        for (int i = 0; i < n; i++) {
            cdf[i] /= total;
        }
        return cdf;
    }

    private static int rank(double[] cdf, Random r) {
        int i = Arrays.binarySearch(cdf, r.nextDouble());
        return Math.min(cdf.length - 1, i >= 0 ? i : -i - 1);
    }

    private static int pick(double[] weights, Random r) {
        double sum = Arrays.stream(weights).sum();
        double u = r.nextDouble() * sum;
        for (int i = 0; i < weights.length; i++) {
            u -= weights[i];
            if (u < 0) {
                return i;
            }
        }
        return weights.length - 1;
    }
}
