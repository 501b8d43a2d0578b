package io.shale.broker;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;

/**
 * The broker's effective settings, under Kafka's broker config names, for DescribeConfigs of the
 * BROKER resource ({@code Admin.describeConfigs}, {@code kafka-configs --describe --entity-type brokers}).
 * Each has its source as Kafka reports it: {@code STATIC_BROKER_CONFIG} when set (builder,
 * command line or broker.properties), {@code DEFAULT_CONFIG} otherwise. None can be changed while the
 * broker runs (read-only; there are no dynamic broker configs, so the cluster-wide default resource,
 * the empty name, has no entries). Passwords are sensitive: their value is null, as Kafka reports them.
 */
final class BrokerConfigs {

    /** One setting: its value (null for a sensitive or unset one) and the default it replaces. */
    static final class Entry {
        final String name;
        final String value;
        final String defaultValue;
        final boolean set;
        final ConfigType type;
        final boolean sensitive;

        Entry(String name, String value, String defaultValue, boolean set, ConfigType type, boolean sensitive) {
            this.name = name;
            this.value = sensitive ? null : value;
            this.defaultValue = sensitive ? null : defaultValue;
            this.set = set;
            this.type = type;
            this.sensitive = sensitive;
        }
    }

    private final int nodeId;
    private final List<Entry> entries;

    BrokerConfigs(int nodeId, List<Entry> entries) {
        this.nodeId = nodeId;
        this.entries = List.copyOf(entries);
    }

    /** Fills {@code result} for one BROKER resource of a DescribeConfigs request. */
    void describe(DescribeConfigsRequestData.DescribeConfigsResource res, boolean includeSynonyms,
            DescribeConfigsResponseData.DescribeConfigsResult result) {
        String name = res.resourceName();
        if (name.isEmpty()) {
            return; // the cluster-wide dynamic defaults: none
        }
        if (!name.equals(Integer.toString(nodeId))) {
            // Kafka's words for a broker id that is not this broker's
            result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(
                    "Unexpected broker id, expected " + nodeId + " or empty string, but received " + name);
            return;
        }
        Set<String> wanted = res.configurationKeys() == null ? null : new HashSet<>(res.configurationKeys());
        List<DescribeConfigsResponseData.DescribeConfigsResourceResult> out = new ArrayList<>();
        for (Entry e : entries) {
            if (wanted != null && !wanted.contains(e.name)) {
                continue;
            }
            ConfigSource source = e.set ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
            DescribeConfigsResponseData.DescribeConfigsResourceResult c =
                    new DescribeConfigsResponseData.DescribeConfigsResourceResult().setName(e.name)
                            .setValue(e.set ? e.value : e.defaultValue).setReadOnly(true).setIsSensitive(e.sensitive)
                            .setConfigSource(source.id()).setConfigType(e.type.id());
            if (includeSynonyms) {
                if (e.set) {
                    c.synonyms().add(new DescribeConfigsResponseData.DescribeConfigsSynonym().setName(e.name)
                            .setValue(e.value).setSource(ConfigSource.STATIC_BROKER_CONFIG.id()));
                }
                if (e.defaultValue != null || e.sensitive) {
                    c.synonyms().add(new DescribeConfigsResponseData.DescribeConfigsSynonym().setName(e.name)
                            .setValue(e.defaultValue).setSource(ConfigSource.DEFAULT_CONFIG.id()));
                }
            }
            out.add(c);
        }
        result.configs().addAll(out);
    }
}
