package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"

	"github.com/fieldrelay/fieldrelay/relay/connector"
	"github.com/fieldrelay/fieldrelay/relay/connector/doshii"
	"github.com/fieldrelay/fieldrelay/relay/connector/navixy"
	"github.com/fieldrelay/fieldrelay/relay/connector/proglovecloud"
	"github.com/fieldrelay/fieldrelay/relay/connector/proglovemobile"
	"github.com/fieldrelay/fieldrelay/relay/connector/resiotconn"
)

// protocol builds a link of one upstream protocol from its config.
type protocol struct {
	// build makes the link; options is the link's "options" object.
	build func(lc LinkConfig, pub *connector.Publisher, log *slog.Logger) (connector.Link, error)
}

// protocols lists every upstream protocol the relay can link to, by the
// name used in a link's "protocol" field.
var protocols = map[string]protocol{
	"resiot": {build: func(lc LinkConfig, pub *connector.Publisher, log *slog.Logger) (connector.Link, error) {
		if lc.URL == "" {
			return nil, fmt.Errorf("url is required")
		}
		return resiotconn.New(resiotconn.Config{Name: lc.Name, URL: lc.URL, Publisher: pub, Logger: log}), nil
	}},
	"proglove": {build: func(lc LinkConfig, pub *connector.Publisher, log *slog.Logger) (connector.Link, error) {
		var cfg proglovemobile.Config
		if err := decodeOptions(lc.Options, &cfg); err != nil {
			return nil, err
		}
		if lc.URL != "" {
			cfg.URL = lc.URL
		}
		cfg.Name, cfg.Publisher, cfg.Logger = lc.Name, pub, log
		return proglovemobile.New(cfg)
	}},
	"proglovecloud": {build: func(lc LinkConfig, pub *connector.Publisher, log *slog.Logger) (connector.Link, error) {
		var cfg proglovecloud.Config
		if err := decodeOptions(lc.Options, &cfg); err != nil {
			return nil, err
		}
		if lc.URL != "" {
			cfg.URL = lc.URL
		}
		cfg.Name, cfg.Publisher, cfg.Logger = lc.Name, pub, log
		return proglovecloud.New(cfg)
	}},
	"navixy": {build: func(lc LinkConfig, pub *connector.Publisher, log *slog.Logger) (connector.Link, error) {
		cfg, err := navixy.ParseOptions(lc.Options)
		if err != nil {
			return nil, err
		}
		if cfg.BaseURL == "" {
			cfg.BaseURL = lc.URL
		}
		cfg.Name, cfg.Publisher, cfg.Logger = lc.Name, pub, log
		return navixy.New(cfg)
	}},
	"doshii": {build: func(lc LinkConfig, pub *connector.Publisher, log *slog.Logger) (connector.Link, error) {
		var cfg doshii.Config
		if err := decodeOptions(lc.Options, &cfg); err != nil {
			return nil, err
		}
		if lc.URL != "" {
			cfg.URL = lc.URL
		}
		cfg.Name, cfg.Publisher, cfg.Logger = lc.Name, pub, log
		return doshii.New(cfg)
	}},
}

// Protocols returns the known protocol names, sorted.
func Protocols() []string {
	out := make([]string, 0, len(protocols))
	for p := range protocols {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// decodeOptions fills a connector's Config from a link's options object;
// unknown keys are errors so that typos are not silently ignored.
func decodeOptions(raw json.RawMessage, into any) error {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	return nil
}
