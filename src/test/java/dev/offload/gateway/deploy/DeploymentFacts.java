package dev.offload.gateway.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the deployment files expect of the running gateway, for tests that hold them against
 * it: the HTTP paths probes and healthchecks call, and the series the dashboard and the
 * autoscaler read.
 */
public final class DeploymentFacts {
    private DeploymentFacts() {
    }

    /** Probe paths of the gateway container, in the base and every overlay. */
    public static Set<String> gatewayProbePaths() {
        Set<String> out = new LinkedHashSet<>();
        for (Path dir : List.of(DeploymentManifestsTest.BASE, DeploymentManifestsTest.OVERLAY, DeploymentManifestsTest.SINGLE_POD)) {
            ObjectNode c = DeploymentManifestsTest.gatewayContainer(Manifests.render(dir));
            for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
                out.add(c.at("/" + probe + "/httpGet/path").asText());
            }
        }
        return out;
    }

    /** The path docker-compose's gateway healthcheck calls. */
    public static String composeHealthcheckPath() {
        for (JsonNode arg : DeploymentManifestsTest.compose().at("/services/gateway/healthcheck/test")) {
            if (arg.asText().startsWith("http")) {
                return URI.create(arg.asText()).getPath();
            }
        }
        throw new AssertionError("the gateway healthcheck calls no URL");
    }

    public static List<String> dashboardExpressions() {
        return new ArrayList<>(DeploymentManifestsTest.dashboardExpressions());
    }

    public static Set<String> adapterSeries() {
        return DeploymentManifestsTest.adapterSeries();
    }
}
