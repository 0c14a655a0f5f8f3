package dev.offload.gateway.api;

import dev.offload.gateway.api.IndexApi.SnapshotResponse;
import dev.offload.gateway.api.IndexApi.StatsResponse;
import dev.offload.gateway.retrieval.IndexRecords.IndexStats;
import dev.offload.gateway.retrieval.IndexRecords.SnapshotInfo;
import dev.offload.gateway.retrieval.SharedIndex;
import dev.offload.gateway.security.Caller;
import dev.offload.gateway.security.CurrentCaller;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import java.io.IOException;

/** {@code /v1/index}: statistics (own tenant; every tenant for admins) and snapshots (admins). */
@Path("/v1/index")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class IndexResource {
    @Inject
    SharedIndex index;
    @Inject
    dev.offload.gateway.cluster.JetStreamIndexLog clusterLog;
    @Inject
    dev.offload.gateway.cluster.NatsCluster nats;
    @Inject
    dev.offload.gateway.cluster.ClusterLimits limits;

    @GET
    @Path("/stats")
    public StatsResponse stats(@QueryParam("all") boolean all) throws IOException {
        Caller caller = all ? CurrentCaller.requireAdmin() : CurrentCaller.get();
        return stats(index, caller, all, cluster(clusterLog, nats, limits));
    }

    static IndexApi.Cluster cluster(dev.offload.gateway.cluster.JetStreamIndexLog log, dev.offload.gateway.cluster.NatsCluster nats,
                                    dev.offload.gateway.cluster.ClusterLimits limits) {
        return nats.enabled() ? new IndexApi.Cluster(nats.nodeName(), log.streamLastSequence(), log.caughtUp(),
                nats.connectionIfUp() != null && log.failure() == null, limits.members(), limits.regime()) : null;
    }

    /** The applied sequence is everyone's (it is the read-your-writes token's counterpart); the rest as before. */
    static StatsResponse stats(SharedIndex index, Caller caller, boolean all, IndexApi.Cluster cluster) throws IOException {
        String tenant = all ? null : caller.tenant();
        IndexStats s = index.get().stats(tenant);
        if (!caller.isAdmin()) {
            return new StatsResponse(tenant, s.documents(), s.chunks(), s.vectors(), null, null, null, null, null,
                    s.lastSequence(), cluster);
        }
        return new StatsResponse(tenant, s.documents(), s.chunks(), s.vectors(), s.deleted(), s.bytesOnDisk(),
                s.lastCommitAt(), s.lastCommitSequence(), s.lastSequence(), s.lastSequence(), cluster);
    }

    @POST
    @Path("/snapshot")
    public SnapshotResponse snapshot() throws IOException {
        CurrentCaller.requireAdmin();
        SnapshotInfo s = index.get().snapshot();
        return new SnapshotResponse(s.path(), s.sequence(), s.files(), s.bytes(), s.createdAt());
    }
}
