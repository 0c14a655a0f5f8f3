package dev.offload.gateway.generation;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VllmMetricsScraperTest {
    @Test
    void parsesVllmGaugesAndSumsModels() {
        String text = """
                # HELP vllm:num_requests_running Number of requests in model execution batches.
                # TYPE vllm:num_requests_running gauge
                vllm:num_requests_running{model_name="a"} 3.0
                vllm:num_requests_running{model_name="b"} 1.0
                vllm:num_requests_waiting{model_name="a"} 7.0
                vllm:kv_cache_usage_perc{model_name="a"} 0.42
                vllm:prompt_tokens_total{model_name="a"} 1234.0
                """;
        Replica.VllmGauges g = VllmMetricsScraper.parse(text);
        assertEquals(4.0, g.running());
        assertEquals(7.0, g.waiting());
        assertEquals(0.42, g.kvCacheUsage(), 1e-9);
        assertTrue(Double.isNaN(VllmMetricsScraper.parse("other_metric 1").running()));
    }

    @Test
    void metricsLiveBesideTheApiPath() {
        assertEquals("http://vllm-0:8000/metrics", VllmMetricsScraper.metricsUri("http://vllm-0:8000/v1").toString());
        assertEquals("http://h:1/metrics", VllmMetricsScraper.metricsUri("http://h:1/v1/").toString());
    }
}
