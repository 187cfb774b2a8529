package tools

import (
	"context"
	"encoding/json"
	"spass/shared/identity"
)

// ListModels returns the list_models tool. list supplies the data (the gateway
// passes /v1/info's model list filtered by the caller's tenant policy), so the tool
// shows the model exactly what the caller could request and nothing more.
func ListModels(list func(ctx context.Context, p identity.Principal) (any, error)) Tool {
	return Tool{
		Name: "list_models",
		Description: "List the models available to this user through the gateway, with their capabilities. " +
			"Use it when asked which models exist or which one can do something (vision, tools, images, embeddings).",
		Parameters: json.RawMessage(`{"type": "object", "additionalProperties": false, "properties": {}}`),
		Execute: func(ctx context.Context, p Call, raw json.RawMessage) (any, error) {
			if list == nil {
				return nil, Errorf("not_configured", "the model list is not available on this gateway")
			}
			var args struct{}
			if err := decodeArgs(raw, &args); err != nil {
				return nil, err
			}
			return list(ctx, p.Principal)
		},
	}
}
