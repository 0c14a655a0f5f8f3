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

/**
 * TLS 1.3 on the REST and the gRPC port: a TLS 1.3 client gets in (with a key), a TLS 1.2-only
 * client does not, and a plain-text gRPC client is not served.
 */
@QuarkusTest
@TestProfile(TlsProfile.class)
class TlsTest {
    @TestHTTPResource(value = "/v1/index/stats", tls = true)
    URL stats;

    @org.eclipse.microprofile.config.inject.ConfigProperty(name = "quarkus.grpc.server.test-port")
    int grpcPort;
    @jakarta.inject.Inject
    dev.offload.gateway.retrieval.SharedIndex index;

    @org.junit.jupiter.api.BeforeEach
    void indexOpen() throws Exception {
        index.whenOpen().get(120, java.util.concurrent.TimeUnit.SECONDS);
    }

    private static TrustManagerFactory trust() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(TlsProfile.KEYSTORE)) {
            trust.load(in, TlsProfile.PASSWORD.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        return tmf;
    }

    private static HttpClient client(String... protocols) throws Exception {
        TrustManagerFactory tmf = trust();
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

    @Test
    void grpcIsServedOverTls13AndNotInPlainText() throws Exception {
        io.grpc.ManagedChannel tls = io.grpc.Grpc.newChannelBuilderForAddress("localhost", grpcPort,
                io.grpc.TlsChannelCredentials.newBuilder().trustManager(trust().getTrustManagers()).build()).build();
        io.grpc.ManagedChannel plain = io.grpc.Grpc.newChannelBuilderForAddress("localhost", grpcPort,
                io.grpc.InsecureChannelCredentials.create()).build();
        try {
            dev.offload.gateway.api.grpc.StatsReply stats = dev.offload.gateway.api.grpc.IndexServiceGrpc.newBlockingStub(tls)
                    .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(TestKeys.metadata(TestKeys.ACME)))
                    .withDeadlineAfter(30, java.util.concurrent.TimeUnit.SECONDS)
                    .stats(dev.offload.gateway.api.grpc.StatsRequest.getDefaultInstance());
            assertEquals("acme", stats.getTenant(), "answered for the key's tenant over TLS");
            io.grpc.StatusRuntimeException noKey = assertThrows(io.grpc.StatusRuntimeException.class,
                    () -> dev.offload.gateway.api.grpc.IndexServiceGrpc.newBlockingStub(tls)
                            .withDeadlineAfter(30, java.util.concurrent.TimeUnit.SECONDS)
                            .stats(dev.offload.gateway.api.grpc.StatsRequest.getDefaultInstance()));
            assertEquals(io.grpc.Status.Code.UNAUTHENTICATED, noKey.getStatus().getCode());
            io.grpc.StatusRuntimeException clear = assertThrows(io.grpc.StatusRuntimeException.class,
                    () -> dev.offload.gateway.api.grpc.IndexServiceGrpc.newBlockingStub(plain)
                            .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(TestKeys.metadata(TestKeys.ACME)))
                            .withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS)
                            .stats(dev.offload.gateway.api.grpc.StatsRequest.getDefaultInstance()));
            assertEquals(io.grpc.Status.Code.UNAVAILABLE, clear.getStatus().getCode(), String.valueOf(clear));
        } finally {
            tls.shutdownNow();
            plain.shutdownNow();
        }
    }
}
