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
}
