package dev.offload.gateway.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** A small JSON client for the suites: status, headers and body of one call; status 0 when the connection failed. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    record Reply(int status, HttpResponse<String> response, JsonNode body) {
        String header(String name) {
            return response == null ? null : response.headers().firstValue(name).orElse(null);
        }

        @Override
        public String toString() {
            return status + " " + (response == null ? "" : response.body());
        }
    }

    private Http() {
    }

    static Reply call(String method, String url, String key, Object body, Map<String, String> headers, Duration timeout)
            throws InterruptedException {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(timeout)
                    .header("Authorization", "Bearer " + key);
            headers.forEach(b::header);
            if (body != null) {
                b.header("content-type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            } else {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            }
            HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json = null;
            if (!r.body().isEmpty() && r.headers().firstValue("content-type").orElse("").contains("json")) {
                json = JSON.readTree(r.body());
            }
            return new Reply(r.statusCode(), r, json);
        } catch (IOException e) {
            return new Reply(0, null, null);
        }
    }

    static Reply post(String url, String key, Object body, Map<String, String> headers) throws InterruptedException {
        return call("POST", url, key, body, headers, Duration.ofSeconds(60));
    }

    static Reply get(String url, String key, Map<String, String> headers) throws InterruptedException {
        return call("GET", url, key, null, headers, Duration.ofSeconds(30));
    }
}
