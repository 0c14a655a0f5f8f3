package dev.offload.gateway.deploy;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A parsed Prometheus text exposition: the {@code # TYPE} of each family and, for each sample
 * name, the label names its series carry.
 */
public final class PrometheusScrape {
    private final Map<String, String> types = new HashMap<>();
    private final Map<String, Set<Set<String>>> labelSets = new LinkedHashMap<>();

    private PrometheusScrape() {
    }

    public static PrometheusScrape parse(String text) {
        PrometheusScrape s = new PrometheusScrape();
        for (String line : text.split("\n")) {
            line = line.strip();
            if (line.startsWith("# TYPE ")) {
                String[] p = line.split("\\s+");
                s.types.put(p[2], p[3]);
            } else if (!line.isEmpty() && !line.startsWith("#")) {
                int brace = line.indexOf('{');
                int space = line.indexOf(' ');
                String name = brace >= 0 && brace < space ? line.substring(0, brace) : line.substring(0, space);
                Set<String> labels = brace >= 0 && brace < space ? labelNames(line, brace) : Set.of();
                s.labelSets.computeIfAbsent(name, k -> new LinkedHashSet<>()).add(labels);
            }
        }
        return s;
    }

    /** Label names of {@code name{a="x",b="y \"q\", z"} value}, quotes and escapes respected. */
    private static Set<String> labelNames(String line, int brace) {
        Set<String> names = new LinkedHashSet<>();
        int i = brace + 1;
        while (i < line.length() && line.charAt(i) != '}') {
            int eq = line.indexOf('=', i);
            names.add(line.substring(i, eq).strip());
            i = eq + 2; // past ="
            while (line.charAt(i) != '"') {
                i += line.charAt(i) == '\\' ? 2 : 1;
            }
            i++; // closing quote
            if (line.charAt(i) == ',') {
                i++;
            }
        }
        return names;
    }

    /** Every sample name (with its suffix: {@code _total}, {@code _bucket}, {@code _count} …). */
    public Set<String> sampleNames() {
        return labelSets.keySet();
    }

    public boolean hasSample(String name) {
        return labelSets.containsKey(name);
    }

    /**
     * The samples of a family as a dashboard would query it: the name itself, or with one of
     * the suffixes Prometheus adds to counters, summaries and histograms.
     */
    public List<String> samplesOf(String family) {
        return List.of(family, family + "_total", family + "_count", family + "_sum", family + "_max", family + "_bucket")
                .stream().filter(labelSets::containsKey).distinct().toList();
    }

    /** The declared type of a family ({@code counter}, {@code gauge}, {@code summary}, {@code histogram}), or null. */
    public String typeOf(String family) {
        for (String candidate : List.of(family, family.endsWith("_total") ? family.substring(0, family.length() - 6) : family)) {
            if (types.containsKey(candidate)) {
                return types.get(candidate);
            }
        }
        return null;
    }

    /** Whether some series of the sample carries every one of these labels. */
    public boolean hasLabels(String sample, Set<String> labels) {
        return labelSets.getOrDefault(sample, Set.of()).stream().anyMatch(l -> l.containsAll(labels));
    }
}
