package dev.offload.gateway;

import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * REST Assured against the management interface of the gateway under test, where
 * {@code /q/health/*} and {@code /q/metrics} answer ({@code quarkus.management.test-port}); the
 * REST port (REST Assured's default) has neither.
 */
public final class ManagementInterface {
    private ManagementInterface() {
    }

    /** The management interface's port in the test profile. */
    public static int port() {
        return ConfigProvider.getConfig().getOptionalValue("quarkus.management.test-port", Integer.class).orElse(9091);
    }

    public static RequestSpecification given() {
        return RestAssured.given().port(port());
    }

    /**
     * Waits (up to 120 s) until {@code /q/health/ready} answers 200: the index opens and the
     * in-process models load on threads of their own after the application has started.
     */
    public static void awaitReady() {
        org.awaitility.Awaitility.await("readiness").atMost(java.time.Duration.ofSeconds(120))
                .pollInterval(java.time.Duration.ofMillis(100))
                .until(() -> given().get("/q/health/ready").statusCode() == 200);
    }
}
