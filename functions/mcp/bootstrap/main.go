// Command bootstrap runs the /mcp endpoint group (the gateway as an MCP server)
// as an AWS Lambda function (provided.al2023); see shared/lambdahttp and
// template.yaml. The server is stateless and answers in JSON, so the buffered
// HTTP API carries it.
package main

import (
	"spass/functions/mcp"
	"spass/shared/lambdahttp"
)

func main() { lambdahttp.Main(mcp.New) }
