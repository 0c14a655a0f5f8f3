package dev.offload.gateway.bench;

import dev.offload.gateway.privacy.PiiRedactor;
import dev.offload.gateway.privacy.PiiType;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Precision and recall of the PERSON kind on the labelled sentences in
 * {@code src/test/resources/privacy/names-eval.txt}, and what it costs per KB of text.
 *
 * <p>Quality: a finding is correct when its span equals a labelled person's ("exact"), or, more
 * leniently, when it overlaps one ("overlap": "Martin Luther" for "Martin Luther King" hides most
 * of the name). ORG and LOC are labelled too, but the gateway has no detector for them; they are
 * counted so a later detector can be measured on the same file, and a PERSON finding on an ORG or
 * LOC label is reported as such.
 *
 * <p>Cost: every sentence joined into one text, {@code detect} called on it in a loop; each of
 * {@code reps} repetitions times {@code iters} calls after a warm-up, and the median per KB (UTF-8)
 * is printed, for the default kinds, the default kinds plus PERSON, and PERSON alone. Wall-clock
 * time on one thread; a shared machine makes single repetitions noisy, hence the median.
 *
 * <pre>./mvnw -q test-compile exec:exec@names -Dbench.args="21 200"</pre>
 */
public final class PersonNameEvaluation {
    static final String DATA = "privacy/names-eval.txt";

    private PersonNameEvaluation() {
    }

    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 21;
        int iters = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        LabelledSentences set = LabelledSentences.read(DATA);
        PiiRedactor withPerson = PiiRedactor.builder().types(EnumSet.allOf(PiiType.class)).build();
        quality(set, withPerson);
        cost(set, reps, iters, withPerson);
    }

    private static void quality(LabelledSentences set, PiiRedactor redactor) {
        Map<String, Integer> gold = new TreeMap<>();
        int predicted = 0;
        int exact = 0;
        int overlapPredicted = 0;
        int onOrgOrLoc = 0;
        int goldPersons = 0;
        int goldOverlapped = 0;
        long goldChars = 0;
        long goldCharsCovered = 0;
        List<String> falsePositives = new ArrayList<>();
        List<String> missed = new ArrayList<>();
        for (LabelledSentences.Sentence s : set.sentences()) {
            List<PiiRedactor.Match> found = redactor.detect(s.text()).stream()
                    .filter(m -> m.type() == PiiType.PERSON).toList();
            for (LabelledSentences.Entity e : s.entities()) {
                gold.merge(e.label(), 1, Integer::sum);
            }
            predicted += found.size();
            for (PiiRedactor.Match m : found) {
                boolean isExact = false;
                boolean overlaps = false;
                boolean other = false;
                for (LabelledSentences.Entity e : s.entities()) {
                    boolean o = m.start() < e.end() && e.start() < m.end();
                    if (e.label().equals("PER")) {
                        isExact |= m.start() == e.start() && m.end() == e.end();
                        overlaps |= o;
                    } else {
                        other |= o;
                    }
                }
                exact += isExact ? 1 : 0;
                overlapPredicted += overlaps ? 1 : 0;
                if (!overlaps) {
                    onOrgOrLoc += other ? 1 : 0;
                    falsePositives.add("line " + s.line() + ": '" + m.value() + "'" + (other ? " (on ORG/LOC)" : ""));
                } else if (!isExact) {
                    falsePositives.add("line " + s.line() + ": '" + m.value() + "' (partial)");
                }
            }
            for (LabelledSentences.Entity e : s.entities()) {
                if (!e.label().equals("PER")) {
                    continue;
                }
                goldPersons++;
                goldChars += e.end() - e.start();
                boolean hit = false;
                boolean[] covered = new boolean[e.end() - e.start()];
                for (PiiRedactor.Match m : found) {
                    if (m.start() < e.end() && e.start() < m.end()) {
                        hit = true;
                        for (int c = Math.max(m.start(), e.start()); c < Math.min(m.end(), e.end()); c++) {
                            covered[c - e.start()] = true;
                        }
                    }
                }
                for (boolean c : covered) {
                    goldCharsCovered += c ? 1 : 0;
                }
                goldOverlapped += hit ? 1 : 0;
                if (!hit) {
                    missed.add("line " + s.line() + ": '" + s.text().substring(e.start(), e.end()) + "'");
                }
            }
        }
        System.out.printf("%nnames evaluation: %d sentences, labels %s%n", set.sentences().size(), gold);
        System.out.printf("PERSON exact   : precision %.3f (%d/%d), recall %.3f (%d/%d)%n",
                ratio(exact, predicted), exact, predicted, ratio(exact, goldPersons), exact, goldPersons);
        System.out.printf("PERSON overlap : precision %.3f (%d/%d), recall %.3f (%d/%d)%n",
                ratio(overlapPredicted, predicted), overlapPredicted, predicted,
                ratio(goldOverlapped, goldPersons), goldOverlapped, goldPersons);
        System.out.printf("PERSON name characters hidden: %.3f (%d/%d); false findings on ORG/LOC labels: %d%n",
                ratio(goldCharsCovered, goldChars), goldCharsCovered, goldChars, onOrgOrLoc);
        System.out.printf("ORG, LOC: no detector (recall 0 of %d and %d)%n", gold.getOrDefault("ORG", 0),
                gold.getOrDefault("LOC", 0));
        System.out.println("false or partial findings: " + falsePositives);
        System.out.println("missed names: " + missed);
    }

    private static void cost(LabelledSentences set, int reps, int iters, PiiRedactor withPerson) {
        StringBuilder b = new StringBuilder();
        for (LabelledSentences.Sentence s : set.sentences()) {
            b.append(s.text()).append('\n');
        }
        String text = b.toString();
        double kb = text.getBytes(StandardCharsets.UTF_8).length / 1024.0;
        Map<String, PiiRedactor> redactors = new java.util.LinkedHashMap<>();
        redactors.put("default kinds", PiiRedactor.withDefaults());
        redactors.put("default kinds + PERSON", withPerson);
        redactors.put("PERSON alone", PiiRedactor.builder().types(EnumSet.of(PiiType.PERSON)).build());
        System.out.printf("%ncost: %.1f KB of text, %d repetitions x %d calls, one thread; %s; load %s%n",
                kb, reps, iters, Hardware.describe(), Hardware.loadAverage());
        // Warm-up: every redactor, interleaved, for about as long as one repetition set.
        for (int w = 0; w < 5; w++) {
            for (PiiRedactor r : redactors.values()) {
                run(r, text, iters);
            }
        }
        Map<String, double[]> micros = new java.util.LinkedHashMap<>();
        redactors.keySet().forEach(k -> micros.put(k, new double[reps]));
        for (int rep = 0; rep < reps; rep++) {
            for (Map.Entry<String, PiiRedactor> e : redactors.entrySet()) {
                long t0 = System.nanoTime();
                run(e.getValue(), text, iters);
                micros.get(e.getKey())[rep] = (System.nanoTime() - t0) / 1e3 / iters / kb;
            }
        }
        micros.forEach((name, v) -> {
            double[] sorted = v.clone();
            Arrays.sort(sorted);
            System.out.printf("%-24s median %7.1f µs/KB (min %.1f, max %.1f)%n", name, sorted[sorted.length / 2],
                    sorted[0], sorted[sorted.length - 1]);
        });
    }

    private static int sink;

    private static void run(PiiRedactor r, String text, int iters) {
        for (int i = 0; i < iters; i++) {
            sink += r.detect(text).size();
        }
    }

    private static double ratio(long a, long b) {
        return b == 0 ? 0 : (double) a / b;
    }
}
