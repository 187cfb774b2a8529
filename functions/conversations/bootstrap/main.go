// Command bootstrap runs the conversations endpoint group (/c1) as an AWS Lambda
// function (provided.al2023); see shared/lambdahttp and template.yaml.
package main

import (
	"spass/functions/conversations"
	"spass/shared/lambdahttp"
)

func main() { lambdahttp.Main(conversations.New) }
