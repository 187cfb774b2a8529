// Command bootstrap runs the agents endpoint group (/a1) as an AWS Lambda function
// (provided.al2023); see shared/lambdahttp and template.yaml.
package main

import (
	"spass/functions/agents"
	"spass/shared/lambdahttp"
)

func main() { lambdahttp.Main(agents.New) }
