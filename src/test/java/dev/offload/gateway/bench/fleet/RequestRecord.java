package dev.offload.gateway.bench.fleet;

import java.util.Locale;

/**
 * One query's fate, one CSV row. Times in milliseconds from the query's scheduled arrival on the
 * device; {@code ttftMs} is NaN where nothing streamed (JSON transport, cut off).
 *
 * @param route       {@code local}, {@code edge}, {@code cloud}, {@code cache}, {@code extractive}
 *                    (who produced the answer the user saw), or {@code cut-off} (unanswered when
 *                    the run ended)
 * @param why         for a local answer: {@code policy}, {@code offline}, {@code restricted}, {@code retry-after},
 *                    {@code hint}, {@code gateway-local} (the query came back unanswered with a
 *                    LOCAL hint), {@code refused} (429/503), {@code error}, {@code decide-failed}, {@code cache-miss}
 *                    (a cache-only probe found no answer)
 * @param hintSource  {@code none}, {@code held} (a hint still valid), {@code decided} (a decide call)
 * @param hintTarget  the hint the device acted on, empty when none
 * @param answerHint  the target of the hint that came back with the query, empty when none
 * @param reasons     reason codes of the last hint the trip received (decide or answer), joined by {@code |}
 * @param question    the asked question's origin ({@link QuestionPool.Question#origin})
 * @param deviceClass the device's local model speed class (tokens/s)
 * @param localQuality the last hint's {@code estimates.localQuality}; NaN when none came
 * @param verdict     {@link AnswerQuality.Verdict}: correct, wrong, extractive, cut-off, unlabelled
 * @param cacheOrigin for a cached answer: {@code same} (generated for this question), {@code other},
 *                    {@code unknown}; empty otherwise
 * @param decideCalls decide calls this query made (0 or 1)
 * @param probes      cache-only requests this query made before a local answer (0 or 1)
 * @param localS      seconds the device's model computed for this query (0 when it did not run)
 * @param localJ      joules of that computation (the class's watts × localS)
 * @param radioJ      joules of the radio for this query's exchanges (promotion, connected time, bytes, tail)
 * @param answerTag   the tag of a gateway answer (its first word without the token index): which question it was generated for
 * @param upBytes     bytes sent to the gateway (decide and query)
 * @param downBytes   bytes received
 */
record RequestRecord(String policy, int repeat, int device, int index, String phase, double arrivalS, String kind,
                     String origin, String sensitivity, String network, double rttMs, String thermal,
                     double batteryPct, boolean charging, double cpuLoad, String hintSource, String hintTarget,
                     String answerHint, String reasons, String route, String why, int status, double decideMs, double ttftMs,
                     double e2eMs, long budgetMs, boolean metBudget, int outputTokens, String error, String question,
                     double deviceClass, double localQuality, String verdict, String cacheOrigin, int decideCalls,
                     int probes, double localS, double localJ, double radioJ, long upBytes, long downBytes, String answerTag) {

    static final String CSV_HEADER = "policy,repeat,device,index,phase,arrival_s,kind,origin,sensitivity,network,rtt_ms,"
            + "thermal,battery_pct,charging,cpu_load,hint_source,hint_target,answer_hint,reasons,route,why,status,decide_ms,ttft_ms,"
            + "e2e_ms,budget_ms,met_budget,output_tokens,error,question,device_class,local_quality,verdict,cache_origin,"
            + "decide_calls,cache_probes,local_s,local_j,radio_j,up_bytes,down_bytes,answer_tag";

    /** Device energy of this query: local inference plus radio. */
    double deviceJ() {
        return localJ + radioJ;
    }

    boolean correct() {
        return verdict.equals("correct");
    }

    boolean offloaded() {
        return route.equals("edge") || route.equals("cloud") || route.equals("extractive");
    }

    String csv() {
        return String.join(",", policy, Integer.toString(repeat), Integer.toString(device), Integer.toString(index),
                quote(phase), num(arrivalS, 3), kind, origin, sensitivity, network, num(rttMs, 1), thermal,
                num(batteryPct, 1), Boolean.toString(charging), num(cpuLoad, 2), hintSource, hintTarget, answerHint,
                reasons, route, why, Integer.toString(status), num(decideMs, 1), num(ttftMs, 1), num(e2eMs, 1),
                Long.toString(budgetMs), Boolean.toString(metBudget), Integer.toString(outputTokens),
                quote(error == null ? "" : error), quote(question), num(deviceClass, 0), num(localQuality, 3), verdict,
                cacheOrigin, Integer.toString(decideCalls), Integer.toString(probes), num(localS, 3), num(localJ, 3), num(radioJ, 3),
                Long.toString(upBytes), Long.toString(downBytes), quote(answerTag == null ? "" : answerTag));
    }

    private static String num(double v, int decimals) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /** RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled. */
    static String quote(String s) {
        String flat = s.replace('\n', ' ').replace('\r', ' ');
        return flat.contains(",") || flat.contains("\"") ? "\"" + flat.replace("\"", "\"\"") + "\"" : flat;
    }
}
