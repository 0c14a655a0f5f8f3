package dev.offload.gateway.deploy;

import dev.offload.gateway.metrics.MetricNames;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parsers the observability contract relies on, and metrics.md against {@link MetricNames}. */
class MetricsDocTest {
    @Test
    void parsesTheTableIncludingEscapedPipesAndPendingPackages() {
        List<MetricsDoc.Row> rows = MetricsDoc.parse("""
                # Metrics
                | name (Prometheus) | type | tags | exported by | meaning |
                |---|---|---|---|---|
                | `gateway_generation_tokens_total` | counter | tier, direction=in\\|out | `generation` | tokens |
                | `gateway_offload_decisions_total` | counter | target, reason | `offload-not-yet` | later |
                | `gateway_generation_coalesced_total` | counter | — | `generation` | shared |

                text after the table | with a pipe
                """);
        assertEquals(3, rows.size());
        assertEquals(Set.of("tier", "direction"), rows.get(0).tags());
        assertTrue(rows.get(0).packagePresent());
        assertFalse(rows.get(1).packagePresent(), "a package that does not exist yet is pending");
        assertEquals(Set.of(), rows.get(2).tags());
        assertThrows(IllegalStateException.class, () -> MetricsDoc.parse("no table here"));
        assertThrows(IllegalStateException.class, () -> MetricsDoc.parse("""
                | name (Prometheus) | type | tags | exported by | meaning |
                |---|---|---|---|---|
                | `x` | gauge | — | `generation` |
                """), "a row with a missing cell");
    }

    @Test
    void parsesPrometheusTextWithQuotedLabelValues() {
        PrometheusScrape s = PrometheusScrape.parse("""
                # HELP x_total things
                # TYPE x counter
                x_total{tier="edge",reason="a \\"quoted\\", comma"} 3.0
                # TYPE y_seconds histogram
                y_seconds_bucket{tier="edge",le="0.1"} 1
                y_seconds_count{tier="edge"} 1
                z 1
                """);
        assertTrue(s.hasLabels("x_total", Set.of("tier", "reason")));
        assertFalse(s.hasLabels("x_total", Set.of("replica")));
        assertEquals("counter", s.typeOf("x_total"));
        assertEquals("histogram", s.typeOf("y_seconds"));
        assertEquals(List.of("y_seconds_count", "y_seconds_bucket"), s.samplesOf("y_seconds"));
        assertEquals(List.of("z"), s.samplesOf("z"));
        assertTrue(s.samplesOf("absent").isEmpty());
    }

    @Test
    void everyNameInMetricNamesHasARowInMetricsMd() throws IllegalAccessException {
        List<MetricsDoc.Row> rows = MetricsDoc.rows();
        List<String> missing = new ArrayList<>();
        for (Field f : MetricNames.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
                String rendered = ((String) f.get(null)).replace('.', '_');
                if (rows.stream().noneMatch(r -> r.name().equals(rendered) || r.name().startsWith(rendered + "_"))) {
                    missing.add(f.getName() + " (" + rendered + ")");
                }
            }
        }
        assertTrue(missing.isEmpty(), "MetricNames constants without a row in metrics.md: " + missing);
    }
}
