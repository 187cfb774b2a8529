// Command bootstrap runs the discovery endpoint group as an AWS Lambda function
// (provided.al2023); see shared/lambdahttp and template.yaml.
package main

import (
	"spass/functions/discovery"
	"spass/shared/lambdahttp"
)

func main() { lambdahttp.Main(discovery.New) }
