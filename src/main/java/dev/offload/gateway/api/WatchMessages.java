package dev.offload.gateway.api;

import dev.offload.gateway.api.grpc.CacheStatus;
import dev.offload.gateway.api.grpc.GatewayState;
import dev.offload.gateway.api.grpc.OffloadSettings;
import dev.offload.gateway.api.grpc.TierStatus;
import dev.offload.gateway.offload.policy.GatewaySnapshot;
import dev.offload.gateway.offload.policy.GatewayView.TierView;
import dev.offload.gateway.offload.policy.PolicySettings;
import dev.offload.gateway.offload.policy.TierState;

import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * A {@link GatewaySnapshot} on the wire: gRPC's {@link GatewayState} both ways (a device speaking
 * gRPC converts with {@link #fromProto}: the device-policy jar itself has no protobuf), and the
 * SSE event. The encoders are the constants {@code WatchFeed} memoises per publication.
 */
public final class WatchMessages {
    /** The gRPC message, built once per publication. */
    public static final Function<GatewaySnapshot, GatewayState> PROTO = WatchMessages::toProto;
    /** The whole SSE event ({@code event: snapshot}, {@code id: epoch-version}, one {@code data:} line), once per publication. */
    public static final Function<GatewaySnapshot, byte[]> SSE = s -> ("event: snapshot\nid: " + s.epoch() + "-" + s.version()
            + "\ndata: " + s.toJson() + "\n\n").getBytes(StandardCharsets.UTF_8);

    private WatchMessages() {
    }

    public static GatewayState toProto(GatewaySnapshot s) {
        PolicySettings p = s.settings();
        GatewayState.Builder b = GatewayState.newBuilder().setEpoch(s.epoch()).setVersion(s.version())
                .setIssuedAtMs(s.issuedAtMs()).setValidForMs(s.validForMs())
                .setCache(CacheStatus.newBuilder().setEnabled(s.cache().enabled()))
                .setSettings(OffloadSettings.newBuilder().setSaturationUtil(p.saturationUtil())
                        .setLoadSlowdownWeight(p.loadSlowdownWeight()).setThermalSeriousFactor(p.thermalSeriousFactor())
                        .setLowBatteryPct(p.lowBatteryPct()).setMinLocalMemoryMb(p.minLocalMemoryMb())
                        .setLocalPrefillSpeedup(p.localPrefillSpeedup()).setDefaultOutputTokens(p.defaultOutputTokens())
                        .setLongOutputTokens(p.longOutputTokens()).setContextTokensEstimate(p.contextTokensEstimate())
                        .setLocalMaxOutputTokens(p.localMaxOutputTokens()).setLocalBias(p.localBias())
                        .setMinLocalQuality(p.minLocalQuality()).setLocalPreferredQuality(p.localPreferredQuality())
                        .setLocalQualityEnabled(p.localQualityEnabled())
                        .setDefaultRttMs(p.defaultRttMs()).setPriorTtftMs(p.priorTtftMs())
                        .setPriorTokensPerSec(p.priorTokensPerSec()).setSlowNetworkShare(p.slowNetworkShare())
                        .setValidityMs(p.validityMs()).setUnstableValidityMs(p.unstableValidityMs()));
        if (s.edge() != null) {
            b.setEdge(tier(s.edge()));
        }
        if (s.cloud() != null) {
            b.setCloud(tier(s.cloud()));
        }
        return b.build();
    }

    private static TierStatus tier(TierView v) {
        TierState s = v.state();
        return TierStatus.newBuilder().setName(s.name()).setExternal(s.external()).setReplicas(s.replicas())
                .setHealthyReplicas(s.healthyReplicas()).setCircuitOpen(s.healthyReplicas() == 0).setSlots(s.slots())
                .setInFlight(s.inFlight()).setQueueLength(s.queueLength()).setQueueCapacity(s.queueCapacity())
                .setWaitMs(s.waitMillis()).setTtftMs(s.ttftMillis()).setTokensPerSec(s.tokensPerSecond())
                .setServiceMs(s.serviceMillis()).setMaxQueueWaitMs(s.maxQueueWaitMillis())
                .setMaxContextTokens(v.maxContextTokens()).setCircuitRetryMs(v.circuitRetryMs()).build();
    }

    /**
     * The snapshot a device holds after receiving {@code m}.
     *
     * @throws IllegalArgumentException when the message is not a valid snapshot (no settings, bad values)
     */
    public static GatewaySnapshot fromProto(GatewayState m) {
        if (!m.hasSettings() || !m.hasCache()) {
            throw new IllegalArgumentException("a snapshot carries settings and cache");
        }
        OffloadSettings p = m.getSettings();
        return new GatewaySnapshot(m.getEpoch(), m.getVersion(), m.getIssuedAtMs(), m.getValidForMs(),
                m.hasEdge() ? tier(m.getEdge()) : null, m.hasCloud() ? tier(m.getCloud()) : null,
                new GatewaySnapshot.CacheState(m.getCache().getEnabled()),
                new PolicySettings(p.getSaturationUtil(), p.getLoadSlowdownWeight(), p.getThermalSeriousFactor(),
                        p.getLowBatteryPct(), p.getMinLocalMemoryMb(), p.getLocalPrefillSpeedup(), p.getDefaultOutputTokens(),
                        p.getLongOutputTokens(), p.getContextTokensEstimate(), p.getLocalMaxOutputTokens(), p.getLocalBias(),
                        p.getMinLocalQuality(), p.getLocalPreferredQuality(), p.getLocalQualityEnabled(), p.getDefaultRttMs(), p.getPriorTtftMs(),
                        p.getPriorTokensPerSec(), p.getSlowNetworkShare(), p.getValidityMs(), p.getUnstableValidityMs()));
    }

    private static TierView tier(TierStatus t) {
        return new TierView(new TierState(t.getName(), t.getExternal(), t.getReplicas(), t.getHealthyReplicas(), t.getSlots(),
                t.getInFlight(), t.getQueueLength(), t.getQueueCapacity(), t.getWaitMs(), t.getTtftMs(), t.getTokensPerSec(),
                t.getServiceMs(), t.getMaxQueueWaitMs()), t.getMaxContextTokens(), t.getCircuitRetryMs());
    }
}
