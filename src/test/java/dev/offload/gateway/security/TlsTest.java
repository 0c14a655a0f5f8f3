package dev.offload.gateway.security;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.security.KeyStore;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** TLS 1.3 on the one port: a TLS 1.3 client gets in (with a key), a TLS 1.2-only client does not. */
@QuarkusTest
@TestProfile(TlsProfile.class)
class TlsTest {
    @TestHTTPResource(value = "/v1/index/stats", tls = true)
    URL stats;

    private static HttpClient client(String... protocols) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(TlsProfile.KEYSTORE)) {
            trust.load(in, TlsProfile.PASSWORD.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        SSLParameters params = ssl.getDefaultSSLParameters();
        params.setProtocols(protocols);
        return HttpClient.newBuilder().sslContext(ssl).sslParameters(params).connectTimeout(Duration.ofSeconds(30)).build();
    }

    private HttpRequest.Builder request() {
        URI uri = URI.create(stats.toString().replace("127.0.0.1", "localhost").replace("0.0.0.0", "localhost"));
        return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30));
    }

    @Test
    void tls13ClientsAreServedAndStillNeedAKey() throws Exception {
        HttpClient client = client("TLSv1.3");
        HttpResponse<String> ok = client.send(request().header("Authorization", TestKeys.bearer(TestKeys.ACME)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals("TLSv1.3", ok.sslSession().orElseThrow().getProtocol());
        HttpResponse<String> noKey = client.send(request().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, noKey.statusCode());
    }

    @Test
    void tls12OnlyClientsAreRefusedAtTheHandshake() throws Exception {
        HttpClient client = client("TLSv1.2");
        IOException e = assertThrows(IOException.class, () -> client.send(
                request().header("Authorization", TestKeys.bearer(TestKeys.ACME)).build(), HttpResponse.BodyHandlers.ofString()));
        Throwable cause = e;
        while (cause != null && !(cause instanceof SSLHandshakeException)) {
            cause = cause.getCause();
        }
        assertEquals(SSLHandshakeException.class, cause == null ? e.getClass() : cause.getClass(), String.valueOf(e));
    }
}
