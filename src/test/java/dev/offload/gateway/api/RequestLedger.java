package dev.offload.gateway.api;

import dev.offload.gateway.ManagementInterface;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.offload.gateway.security.TestKeys.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.hasEntry;

/**
 * The headline of the reliability suite, computed from the gateway's own metrics:
 * <em>unaccounted requests = accepted − completed − failed − shed − cancelled</em> must be 0
 * once a scenario is over, and no stream may have lacked a terminal event
 * ({@code gateway_requests_unterminated_total}). Take a {@link #snapshot()} before the faults,
 * then call {@link #assertAllAccounted(String)} after them: it scrapes {@code /q/metrics} until
 * the difference is 0 (requests still ending get 10 s), prints the figures, and fails with
 * them otherwise. Works inside any {@code @QuarkusTest} (it uses the test's HTTP port).
 *
 * <p>Counts are deltas between the two scrapes, so other tests' traffic before the snapshot
 * does not matter; traffic of other threads during the scenario does.
 */
public final class RequestLedger {
    private static final String[] OUTCOMES = {"completed", "failed", "shed", "cancelled"};

    private final Map<String, Double> before;

    private RequestLedger(Map<String, Double> before) {
        this.before = before;
    }

    /** The ledger as it stands now. */
    public static RequestLedger snapshot() {
        return new RequestLedger(scrape());
    }

    /** The counts since the snapshot, by outcome, plus {@code accepted}, {@code open}, {@code unterminated} and {@code unaccounted}. */
    public Map<String, Long> delta() {
        return delta(scrape());
    }

    private Map<String, Long> delta(Map<String, Double> now) {
        Map<String, Long> d = new LinkedHashMap<>();
        d.put("accepted", diff(now, "accepted"));
        long ended = 0;
        for (String o : OUTCOMES) {
            long n = diff(now, o);
            d.put(o, n);
            ended += n;
        }
        d.put("unterminated", diff(now, "unterminated"));
        d.put("open", Math.round(now.getOrDefault("open", 0.0)));
        d.put("unaccounted", d.get("accepted") - ended);
        return d;
    }

    private long diff(Map<String, Double> now, String key) {
        return Math.round(now.getOrDefault(key, 0.0) - before.getOrDefault(key, 0.0));
    }

    /**
     * Waits up to 10 s for every request accepted since the snapshot to have ended, then checks
     * that none is unaccounted, none is open and no stream lacked its terminal event.
     *
     * @return the deltas, for further assertions (e.g. on how many were cancelled)
     */
    public Map<String, Long> assertAllAccounted(String scenario) {
        String rule = scenario + ": unaccounted requests (accepted − completed − failed − shed − cancelled) "
                + "must be 0, none open, no stream without a terminal event: ";
        Map<String, Long> d = await(rule + "every accepted request to have ended").atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> delta(scrape()), allOf(hasEntry("unaccounted", 0L), hasEntry("open", 0L)));
        System.out.println("request ledger, " + scenario + ": " + d);
        if (d.get("unterminated") != 0) {
            throw new AssertionError(rule + d);
        }
        return d;
    }

    /** Sums of the ledger's series over endpoints and transports, from the Prometheus text. */
    static Map<String, Double> scrape() {
        String text = ManagementInterface.given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        Map<String, Double> sums = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            line = withoutExemplar(line);
            if (!line.startsWith("gateway_requests_")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            double value = Double.parseDouble(line.substring(space + 1).strip());
            String key;
            if (line.startsWith("gateway_requests_accepted_total")) {
                key = "accepted";
            } else if (line.startsWith("gateway_requests_unterminated_total")) {
                key = "unterminated";
            } else if (line.startsWith("gateway_requests_open")) {
                key = "open";
            } else if (line.startsWith("gateway_requests_ended_total")) {
                int at = line.indexOf("outcome=\"");
                key = line.substring(at + 9, line.indexOf('"', at + 9));
            } else {
                continue;
            }
            sums.merge(key, value, Double::sum);
        }
        return sums;
    }

    /**
     * A sample line without its OpenMetrics exemplar ({@code value # {trace_id=…} 1.0 1764…}):
     * with tracing on, Micrometer attaches one, and its last field is a timestamp, not the value.
     */
    public static String withoutExemplar(String line) {
        int hash = line.indexOf(" # ");
        return hash < 0 ? line : line.substring(0, hash);
    }
}
