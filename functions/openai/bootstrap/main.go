// Command bootstrap runs the openai endpoint group as an AWS Lambda function
// (provided.al2023); see shared/lambdahttp and template.yaml.
package main

import (
	"spass/functions/openai"
	"spass/shared/lambdahttp"
)

func main() { lambdahttp.Main(openai.New) }
