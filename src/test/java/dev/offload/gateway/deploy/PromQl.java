package dev.offload.gateway.deploy;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names a PromQL expression reads. Label matchers, range selectors, grouping
 * clauses and strings are removed first; what remains is functions, operators, numbers and
 * metric names, told apart by a list of PromQL's functions and keywords.
 */
public final class PromQl {
    private static final Set<String> WORDS = Set.of(
            "sum", "avg", "min", "max", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group",
            "rate", "irate", "increase", "delta", "idelta", "deriv", "histogram_quantile", "abs", "ceil", "floor", "round",
            "clamp", "clamp_min", "clamp_max", "label_replace", "label_join", "vector", "scalar", "time", "timestamp",
            "absent", "absent_over_time", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time",
            "count_over_time", "last_over_time", "quantile_over_time", "changes", "resets", "sort", "sort_desc",
            "predict_linear", "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan");
    private static final Pattern IDENT = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

    private PromQl() {
    }

    public static Set<String> metricNames(String expr) {
        String e = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"") // strings
                .replaceAll("\\{[^}]*}", " ") // label matchers (and adapter templates inside them)
                .replaceAll("\\[[^]]*]", " ") // ranges
                .replaceAll("(?i)\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        Set<String> out = new LinkedHashSet<>();
        Matcher m = IDENT.matcher(e);
        while (m.find()) {
            String id = m.group();
            int before = m.start() - 1;
            boolean partOfNumber = before >= 0 && (Character.isDigit(e.charAt(before)) || e.charAt(before) == '.');
            if (!WORDS.contains(id.toLowerCase(java.util.Locale.ROOT)) && !partOfNumber) {
                out.add(id);
            }
        }
        return out;
    }
}
